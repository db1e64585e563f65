/**
 * Progress of a load on stderr: a bar redrawn in place (at most 10 times a second) when stderr
 * is a terminal, else a plain line every few seconds. Points are those acknowledged by the
 * server; bytes are the input read. When the input's size is known, the points it holds are
 * estimated from the points per byte read so far (the reader runs ahead of the server by up to
 * the writer's buffer), and the bar and the ETA follow the points written against that.
 */

export interface ProgressSample {
  /** Points acknowledged by the server. */
  points: number;
  /** Points taken from the input so far (accepted by the writer). */
  accepted: number;
  /** Input bytes read. */
  bytes: number;
  /** What is slowing things down, if anything (a retry's reason). */
  note?: string | undefined;
}

export interface ProgressOptions {
  label: string;
  totalBytes: number | undefined;
  sample: () => ProgressSample;
  stream?: NodeJS.WriteStream;
  /** Draw in place (default: stream.isTTY). */
  tty?: boolean;
  /** Plain mode: ms between lines (default 5000). */
  plainIntervalMs?: number;
}

// Made on first use: building a NumberFormat costs 10-20 ms at startup, for every command.
let kNumber: Intl.NumberFormat | undefined;

export function formatCount(n: number): string {
  return (kNumber ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })).format(n);
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function eta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  readonly #o: ProgressOptions;
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #started = performance.now();
  #timer: NodeJS.Timeout | undefined;
  /** Recent samples (time ms, points) for the rate: the last few seconds. */
  readonly #window: Array<[number, number]> = [];
  #drawn = false;

  constructor(o: ProgressOptions) {
    this.#o = o;
    this.#stream = o.stream ?? process.stderr;
    this.#tty = o.tty ?? this.#stream.isTTY === true;
  }

  start(): void {
    const every = this.#tty ? 100 : (this.#o.plainIntervalMs ?? 5000);
    this.#timer = setInterval(() => this.#tick(), every);
    this.#timer.unref();
    if (this.#tty) this.#tick();
  }

  /** Stops and clears the bar (the summary follows on its own lines). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#tty && this.#drawn) this.#stream.write('\r\x1b[2K');
    this.#drawn = false;
  }

  /** Prints a message above the bar. */
  note(line: string): void {
    if (this.#tty && this.#drawn) this.#stream.write('\r\x1b[2K');
    this.#stream.write(`${line}\n`);
    if (this.#tty && this.#timer) this.#tick();
  }

  /** Points per second over the last few seconds. */
  #rate(now: number, points: number): number {
    const w = this.#window;
    w.push([now, points]);
    while (w.length > 2 && now - w[0]![0] > 3000) w.shift();
    const [t0, p0] = w[0]!;
    const dt = (now - t0) / 1000;
    if (dt < 0.2) {
      const all = (now - this.#started) / 1000;
      return all > 0 ? points / all : 0;
    }
    return (points - p0) / dt;
  }

  #tick(): void {
    const s = this.#o.sample();
    const now = performance.now();
    const pps = this.#rate(now, s.points);
    const total = this.#o.totalBytes;
    // Points the whole input holds, estimated from the points per byte read so far.
    const estPoints = total && s.bytes > 0 ? Math.max(s.accepted, (s.accepted * total) / s.bytes) : undefined;
    const frac = estPoints !== undefined ? (estPoints > 0 ? Math.min(1, s.points / estPoints) : 0) : undefined;
    const remaining = estPoints !== undefined && pps > 0 ? ((estPoints - s.points) / pps) * 1000 : NaN;
    const bytes = total ? `${formatBytes(s.bytes)}/${formatBytes(total)}` : formatBytes(s.bytes);
    const rate = `${formatCount(pps)} points/s`;
    if (!this.#tty) {
      const pct = frac !== undefined ? ` (${(frac * 100).toFixed(0)}%)` : '';
      const etaText = frac !== undefined && frac < 1 ? `, ETA ${eta(remaining)}` : '';
      this.#stream.write(`${this.#o.label}: ${formatCount(s.points)} points written${pct}, ${rate}, ${bytes} read${etaText}${s.note ? `; ${s.note}` : ''}\n`);
      return;
    }
    const cols = this.#stream.columns || 100;
    const tail = `${formatCount(s.points)} points  ${rate}  ${bytes}${frac !== undefined ? `  ETA ${eta(remaining)}` : `  ${formatDuration(now - this.#started)}`}${s.note ? `  ${s.note}` : ''}`;
    let line: string;
    if (frac !== undefined) {
      const pct = `${(frac * 100).toFixed(0).padStart(3)}%`;
      const barWidth = Math.max(10, Math.min(30, cols - tail.length - this.#o.label.length - 12));
      const full = Math.round(frac * barWidth);
      line = `${this.#o.label} [${'█'.repeat(full)}${'░'.repeat(barWidth - full)}] ${pct}  ${tail}`;
    } else {
      line = `${this.#o.label}  ${tail}`;
    }
    if (line.length > cols - 1) line = `${line.slice(0, cols - 2)}…`;
    this.#stream.write(`\r\x1b[2K${line}`);
    this.#drawn = true;
  }
}
