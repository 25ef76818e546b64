/**
 * Writing to a Node stream with backpressure: wait for 'drain' when the
 * stream's buffer is full, so a result of any size flows with bounded memory;
 * and stop with an error, rather than wait forever, when the stream is
 * closed or fails first (a client that hung up).
 */
import { SluiceError } from '../util/errors.js';

function closedError(): SluiceError {
  return new SluiceError('FMT040', 'The output was closed before the whole result was written.');
}

function isDestroyed(s: NodeJS.WritableStream): boolean {
  return (s as { destroyed?: boolean }).destroyed === true;
}

type Listener = (arg?: unknown) => void;

/**
 * Resolve on `event` of `emitter`; reject with FMT040 when any of `closes`
 * closes first, or with the error when any of `errors` fails first. Every
 * listener is removed as soon as one of them fires.
 */
function firstOf(emitter: NodeJS.EventEmitter, event: string, closes: readonly NodeJS.EventEmitter[], errors: readonly NodeJS.EventEmitter[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const attached: [NodeJS.EventEmitter, string, Listener][] = [];
    const finish = (settle: () => void) => {
      for (const [e, ev, fn] of attached) e.removeListener(ev, fn);
      settle();
    };
    const on = (e: NodeJS.EventEmitter, ev: string, fn: Listener) => {
      attached.push([e, ev, fn]);
      e.on(ev, fn);
    };
    on(emitter, event, () => finish(resolve));
    for (const c of new Set(closes)) on(c, 'close', () => finish(() => reject(closedError())));
    for (const e of new Set(errors)) on(e, 'error', (err) => finish(() => reject(err)));
  });
}

/** Wait until `stream` drains; reject when it (or `watched`, the final destination) closes or fails first. */
export function waitForDrain(stream: NodeJS.WritableStream, watched: NodeJS.WritableStream = stream): Promise<void> {
  if (isDestroyed(stream) || isDestroyed(watched)) return Promise.reject(closedError());
  return firstOf(stream, 'drain', [stream, watched], [stream, watched]);
}

export async function writeChunk(out: NodeJS.WritableStream, chunk: string | Uint8Array): Promise<void> {
  if (isDestroyed(out)) throw closedError();
  if (!out.write(chunk)) await waitForDrain(out);
}

/** Wait for `source` to end (all piped into `out`); reject when `out` closes or fails first. */
export function untilPiped(source: NodeJS.ReadableStream, out: NodeJS.WritableStream): Promise<void> {
  if (isDestroyed(out)) return Promise.reject(closedError());
  return firstOf(source, 'end', [out], [source, out]);
}
