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

/** Wait until `stream` drains; reject when it (or `watched`, the final destination) closes or fails first. */
export function waitForDrain(stream: NodeJS.WritableStream, watched: NodeJS.WritableStream = stream): Promise<void> {
  if (isDestroyed(stream) || isDestroyed(watched)) return Promise.reject(closedError());
  return new Promise<void>((resolve, reject) => {
    const targets = stream === watched ? [stream] : [stream, watched];
    const cleanup = () => {
      stream.removeListener('drain', onDrain);
      for (const t of targets) {
        t.removeListener('close', onClose);
        t.removeListener('error', onError);
      }
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(closedError());
    };
    const onError = (e: unknown) => {
      cleanup();
      reject(e);
    };
    stream.on('drain', onDrain);
    for (const t of targets) {
      t.on('close', onClose);
      t.on('error', onError);
    }
  });
}

export async function writeChunk(out: NodeJS.WritableStream, chunk: string | Uint8Array): Promise<void> {
  if (isDestroyed(out)) throw closedError();
  if (!out.write(chunk)) await waitForDrain(out);
}

/** Wait for `source` to end (all piped into `out`); reject when `out` closes or fails first. */
export function untilPiped(source: NodeJS.ReadableStream, out: NodeJS.WritableStream): Promise<void> {
  if (isDestroyed(out)) return Promise.reject(closedError());
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      source.removeListener('end', onEnd);
      source.removeListener('error', onError);
      out.removeListener('close', onClose);
      out.removeListener('error', onError);
    };
    const onEnd = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(closedError());
    };
    const onError = (e: unknown) => {
      cleanup();
      reject(e);
    };
    source.on('end', onEnd);
    source.on('error', onError);
    out.on('close', onClose);
    out.on('error', onError);
  });
}
