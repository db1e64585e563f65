/**
 * `fastinflux load`'s dead letter (`DeadLetter`): every point not written, in groups after a
 * "# reason" comment line, in the --dead-letter file; without one, the first few reasons on
 * stderr. What counts as invalid, expired or rejected is decided by the load (load-file.ts).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { DeliveryTimeoutError, PointsDroppedError } from '../errors.js';
import { redact } from './common.js';
import { CliError } from './errors.js';

/** The dead letter: points not written, in groups after a "# reason" comment line. */
export class DeadLetter {
  readonly #fd: number | undefined;
  readonly path: string | undefined;
  /** Reasons shown on stderr when there is no dead-letter file (a few). */
  readonly #shown = new Set<string>();
  #notify: (line: string) => void = (l) => process.stderr.write(`${l}\n`);

  /** `append`: keep what the file holds (a resumed load's dead letter goes on after the earlier runs'). */
  constructor(path: string | undefined, append = false) {
    this.path = path;
    if (path !== undefined) {
      try {
        this.#fd = openSync(path, append ? 'a' : 'w');
      } catch (e) {
        throw new CliError(`cannot write the dead letter ${path}: ${(e as Error).message}`);
      }
    }
  }

  set notify(f: (line: string) => void) {
    this.#notify = f;
  }

  #write(text: string): void {
    if (this.#fd !== undefined) writeSync(this.#fd, text);
  }

  #show(what: string, reason: string): void {
    if (this.#fd !== undefined) return;
    const key = `${what}: ${reason.slice(0, 200)}`;
    if (this.#shown.has(key) || this.#shown.size >= 5) return;
    this.#shown.add(key);
    this.#notify(`fastinflux: ${what}: ${reason}${this.#shown.size === 5 ? ' (further reasons not shown; --dead-letter FILE keeps them all)' : ''}`);
  }

  /** A row that could not become a point (never sent). */
  invalid(where: string, reason: string, text: string | undefined): void {
    const r = oneLine(reason);
    this.#write(`# invalid, not sent: ${where}: ${r}\n${text === undefined ? '' : `${text.split('\n').map((l) => `# ${l}`).join('\n')}\n`}`);
    this.#show(`invalid row ${where}`, r);
  }

  /** Rows read but never taken in by the writer (Ctrl-C, or the load stopped): as line protocol. */
  unsent(count: number, text: string, reason: string): void {
    const r = oneLine(reason);
    this.#write(`# expired (${count} line${count === 1 ? '' : 's'}): ${r}\n${text}${text === '' || text.endsWith('\n') ? '' : '\n'}`);
    this.#show(`${count} point${count === 1 ? '' : 's'} expired`, r);
  }

  /** Lines the writer gave back (rejected by the server, expired or dropped). */
  lines(lines: string[], error: Error): void {
    const what = error instanceof DeliveryTimeoutError ? 'expired' : error instanceof PointsDroppedError ? 'dropped' : 'rejected by the server';
    const r = oneLine(redact(error.message)).replace("not written before close()'s timeout", 'not written when the load stopped');
    this.#write(`# ${what} (${lines.length} line${lines.length === 1 ? '' : 's'}): ${r}\n${lines.join('\n')}\n`);
    this.#show(`${lines.length} point${lines.length === 1 ? '' : 's'} ${what}`, r);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
  }
}

/** A reason on one line (a comment line of the dead letter, a note on stderr). */
export function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
