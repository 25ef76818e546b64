/**
 * Progress of a long statement on stderr: after one second, partitions
 * done/total, rows and remote calls. On a terminal it is one line rewritten
 * in place (and cleared when the statement ends, so results start on a clean
 * line); elsewhere (logs, CI) an occasional plain line. Fed by the engine's
 * ExecuteOptions.onProgress.
 */
import type { Writable } from 'node:stream';
import type { Progress } from '../engine/api.js';

export interface ProgressOptions {
  readonly isTTY: boolean;
  /** Nothing is shown before a statement has run this long. Default 1000 ms. */
  readonly delayMs?: number;
  /** Non-terminal output: at most one line per this many ms. Default 5000. */
  readonly plainIntervalMs?: number;
  readonly now?: () => number;
}

export function describeProgress(p: Progress, elapsedMs: number): string {
  const parts: string[] = [];
  if (p.partitionsTotal > 0) parts.push(`partitions ${p.partitionsDone}/${p.partitionsTotal}`);
  parts.push(`${p.rows.toLocaleString('en-US')} rows`);
  parts.push(`${p.remoteCalls.toLocaleString('en-US')} remote calls`);
  parts.push(`${(elapsedMs / 1000).toFixed(1)} s`);
  return parts.join(' · ');
}

export class ProgressDisplay {
  private readonly stream: Writable;
  private readonly options: ProgressOptions;
  private readonly now: () => number;
  private started: number;
  private latest: Progress | undefined;
  private shown = false;
  private lastPlain = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(stream: Writable, options: ProgressOptions) {
    this.stream = stream;
    this.options = options;
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.resume();
  }

  /** Start timing the next statement (the delay counts from now). */
  resume(): void {
    this.started = this.now();
    this.latest = undefined;
    if (this.options.isTTY && !this.timer) {
      // Redraw on a timer too, so the elapsed time moves while a slow remote call is pending.
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  /** The callback to pass as ExecuteOptions.onProgress. */
  readonly update = (progress: Progress): void => {
    this.latest = progress;
    this.draw();
  };

  /** Redraw now (the terminal timer calls this). */
  draw(): void {
    const elapsed = this.now() - this.started;
    if (elapsed < (this.options.delayMs ?? 1000)) return;
    if (this.options.isTTY) {
      // A statement DuckDB runs alone reports no partitions; the elapsed time still shows it is alive.
      const text = this.latest ? describeProgress(this.latest, elapsed) : `running · ${(elapsed / 1000).toFixed(1)} s`;
      this.stream.write(`\r\x1b[2K${text} (Ctrl-C cancels)`);
      this.shown = true;
    } else if (this.latest && (this.lastPlain === 0 || elapsed - this.lastPlain >= (this.options.plainIntervalMs ?? 5000))) {
      this.lastPlain = elapsed;
      this.stream.write(`progress: ${describeProgress(this.latest, elapsed)}\n`);
    }
  }

  /** Stop (until resume) and remove the progress line. */
  stop(): void {
    this.latest = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
