/**
 * Writing to a Node stream with backpressure: wait for 'drain' when the
 * stream's buffer is full, so a result of any size flows with bounded memory.
 */
import { once } from 'node:events';

export async function writeChunk(out: NodeJS.WritableStream, chunk: string | Uint8Array): Promise<void> {
  if (!out.write(chunk)) await once(out as NodeJS.EventEmitter, 'drain');
}
