/**
 * A progress bar for long CLI commands, on stderr so that stdout stays clean.
 * On a terminal it redraws one line (`\r`) with done/total, images per second
 * and the time left; otherwise (a log file, a pipe) it prints a line each time
 * another tenth of the work is done.
 */

export interface ProgressOptions {
  readonly label?: string;
  /** Work already done before this run (a resumed index): counted in done/total, not in the rate. */
  readonly done?: number;
  readonly stream?: NodeJS.WriteStream;
  /** Redraw the line (default: whether the stream is a terminal). */
  readonly tty?: boolean;
  readonly now?: () => number;
}

const REDRAW_MS = 100;

export class Progress {
  private done: number;
  private readonly initial: number;
  private readonly started: number;
  private readonly label: string;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private lastDraw = -Infinity;
  private lastTenth: number;
  private drawn = false;

  constructor(readonly total: number, options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
    this.label = options.label ?? 'Progress';
    this.done = this.initial = options.done ?? 0;
    this.started = this.now();
    this.lastTenth = this.tenth();
  }

  advance(n: number): void {
    this.done = Math.min(this.total, this.done + n);
    if (this.tty) {
      if (this.done === this.total || this.now() - this.lastDraw >= REDRAW_MS) this.draw();
    } else if (this.tenth() > this.lastTenth) {
      this.lastTenth = this.tenth();
      this.stream.write(`${this.line()}\n`);
    }
  }

  /** Prints a whole line (an error, a warning) without garbling the bar. */
  log(line: string): void {
    if (this.tty && this.drawn) this.stream.write(`\r\x1b[K${line}\n${this.line()}`);
    else this.stream.write(`${line}\n`);
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  private draw(): void {
    this.lastDraw = this.now();
    this.drawn = true;
    this.stream.write(`\r\x1b[K${this.line()}`);
  }

  private tenth(): number {
    return this.total === 0 ? 10 : Math.floor((this.done * 10) / this.total);
  }

  private line(): string {
    const percent = this.total === 0 ? 100 : Math.floor((this.done * 100) / this.total);
    const seconds = (this.now() - this.started) / 1000;
    const rate = seconds > 0 ? (this.done - this.initial) / seconds : 0;
    const eta = rate > 0 && this.done < this.total ? `, ETA ${formatDuration((this.total - this.done) / rate)}` : '';
    let bar = '';
    if (this.tty) {
      const width = 24;
      const full = Math.round((width * percent) / 100);
      bar = ` [${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
    }
    return `${this.label}${bar} ${this.done}/${this.total} (${percent}%), ${rate.toFixed(1)} img/s${eta}`;
  }
}

/** `m:ss`, or `h:mm:ss` from an hour. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}
