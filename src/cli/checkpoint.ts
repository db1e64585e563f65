/**
 * `fastinflux load --checkpoint PATH`: how far each input file is loaded, kept in a JSON file so
 * that the same command, run again, skips the files that are finished and goes on with an
 * unfinished one where its acknowledged points end.
 *
 * A file is known by its absolute path, size and modification time; one whose size or time
 * changed is loaded again from its start (with a warning). Its position is a row index (Arrow,
 * Parquet, CSV data records, NDJSON lines) or, for line protocol, the byte offset after the last
 * line counted (a line boundary of the decompressed input).
 *
 * Positions move only over points the server has settled for good: the loader keeps a mark
 * after each write (the position the input reached, and the writer's count of accepted points
 * then), and a mark counts once every point numbered below its count is delivered
 * (`writer.progress().deliveredBelow`: written, or rejected by the server for good; not expired,
 * not dropped). Rows the writer or the reader left out as invalid are never sent: they count as
 * done with the marks around them.
 *
 * The file is replaced atomically (a temp file in the same directory, fsync, rename), so that a
 * load killed at any moment leaves the old checkpoint or the new one, never a torn one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './errors.js';
import { INPUT_FORMATS, type InputFormat } from './readers/index.js';

export const CHECKPOINT_VERSION = 1;

/** Where a file's load stands. */
export interface Position {
  /** Rows (Arrow, Parquet, CSV data records, NDJSON lines) or bytes (line protocol) loaded. */
  position: number;
  /** Rows before the position (line protocol: lines sent): the summary's `alreadyLoaded`. */
  rows: number;
  /** Line protocol: the line number at the position (for messages). */
  line?: number | undefined;
  /** The whole file is loaded. */
  done: boolean;
}

/** One input file, as the checkpoint file holds it. */
export interface CheckpointEntry extends Position {
  /** Absolute path. */
  path: string;
  size: number;
  mtimeMs: number;
  format: InputFormat;
  unit: 'row' | 'byte';
  /** When the position was last moved (ISO 8601). */
  updated: string;
}

interface CheckpointDocument {
  version: number;
  tool: string;
  db: string;
  rp: string | null;
  files: CheckpointEntry[];
}

/** What the loader does with one input. */
export interface Resume {
  /** The checkpoint's key of the file (its absolute path). */
  key: string;
  /** Where to start: 0 without a record, or when the file changed. */
  start: Position;
}

/** A modification time, with its milliseconds' fraction when `other` differs only there. */
function stamp(ms: number, other: number): string {
  const iso = new Date(ms).toISOString();
  return iso === new Date(other).toISOString() ? `${iso} (${ms} ms)` : iso;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export class Checkpoint {
  readonly path: string;
  readonly #entries = new Map<string, CheckpointEntry>();
  readonly #db: string;
  readonly #rp: string | undefined;
  #dirty = true;
  #warned = false;

  private constructor(path: string, db: string, rp: string | undefined) {
    this.path = path;
    this.#db = db;
    this.#rp = rp;
  }

  /**
   * Reads the checkpoint at `path` (none yet: an empty one). A file that cannot be read or is not
   * a checkpoint of this database stops the load with a CliError naming it: never silently
   * starting over (that would load everything again).
   */
  static open(path: string, db: string, rp: string | undefined): Checkpoint {
    const ck = new Checkpoint(path, db, rp);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') return ck;
      throw new CliError(`cannot read the checkpoint ${path}: ${err.code === 'EISDIR' ? 'it is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message}`);
    }
    const damaged = (why: string): CliError =>
      new CliError(`the checkpoint ${path} is damaged: ${why}; nothing was loaded (delete it to load every file from the start, or give another --checkpoint)`);
    let doc: CheckpointDocument;
    try {
      doc = JSON.parse(text) as CheckpointDocument;
    } catch (e) {
      throw damaged(text.trim() === '' ? 'it is empty' : `not JSON (${(e as Error).message})`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw damaged('not a checkpoint object');
    if (doc.version !== CHECKPOINT_VERSION) {
      throw isInt(doc.version) && doc.version > CHECKPOINT_VERSION
        ? new CliError(`the checkpoint ${path} is of version ${doc.version}, written by a newer fastinflux: this one reads version ${CHECKPOINT_VERSION}`)
        : damaged(`its version is ${JSON.stringify(doc.version) ?? 'missing'}, not ${CHECKPOINT_VERSION}`);
    }
    if (typeof doc.db !== 'string' || (doc.rp !== null && typeof doc.rp !== 'string') || !Array.isArray(doc.files)) throw damaged('db, rp or files is missing or of the wrong type');
    if (doc.db !== db || (doc.rp ?? undefined) !== rp) {
      const where = (d: string, r: string | null | undefined): string => `database ${JSON.stringify(d)}${r ? ` (retention policy ${JSON.stringify(r)})` : ''}`;
      throw new CliError(`the checkpoint ${path} records a load into ${where(doc.db, doc.rp)}, not ${where(db, rp)}: give another --checkpoint for this one`);
    }
    doc.files.forEach((f, i) => {
      const ok = typeof f === 'object' && f !== null && typeof f.path === 'string' && f.path !== '' && isInt(f.size)
        && typeof f.mtimeMs === 'number' && Number.isFinite(f.mtimeMs) && INPUT_FORMATS.includes(f.format)
        && (f.unit === 'row' || f.unit === 'byte') && isInt(f.position) && isInt(f.rows)
        && (f.line === undefined || isInt(f.line)) && typeof f.done === 'boolean';
      if (!ok) throw damaged(`files[${i}] is not a valid file record`);
      ck.#entries.set(f.path, {
        path: f.path, size: f.size, mtimeMs: f.mtimeMs, format: f.format, unit: f.unit,
        position: f.position, rows: f.rows, ...(f.line !== undefined ? { line: f.line } : {}), done: f.done,
        updated: typeof f.updated === 'string' ? f.updated : '',
      });
    });
    ck.#dirty = false;
    return ck;
  }

  /**
   * Where to start `file`: its recorded position when its size and modification time are the
   * recorded ones; else from the start, after `warn` names it (it changed since).
   */
  resume(file: string, label: string, format: InputFormat, unit: 'row' | 'byte', warn: (line: string) => void): Resume {
    const key = resolve(file);
    let size: number;
    let mtimeMs: number;
    try {
      const st = statSync(key);
      size = st.size;
      mtimeMs = st.mtimeMs;
    } catch {
      // The reader says why it cannot be read.
      return { key, start: { position: 0, rows: 0, done: false } };
    }
    const e = this.#entries.get(key);
    const fresh: CheckpointEntry = { path: key, size, mtimeMs, format, unit, position: 0, rows: 0, done: false, updated: new Date().toISOString() };
    if (!e) {
      this.#entries.set(key, fresh);
      this.#dirty = true;
      return { key, start: { position: 0, rows: 0, done: false } };
    }
    if (e.size !== size || e.mtimeMs !== mtimeMs || e.format !== format || e.unit !== unit) {
      const what = e.size !== size ? `its size is ${size} bytes, not ${e.size}`
        : e.mtimeMs !== mtimeMs ? `it was modified: ${stamp(mtimeMs, e.mtimeMs)}, not ${stamp(e.mtimeMs, mtimeMs)}`
        : `it is read as ${format}, not ${e.format}`;
      if (e.position > 0 || e.done) warn(`fastinflux: warning: ${label} changed since the checkpoint ${this.path} recorded it (${what}): loading it from the start`);
      this.#entries.set(key, fresh);
      this.#dirty = true;
      return { key, start: { position: 0, rows: 0, done: false } };
    }
    return { key, start: { position: e.position, rows: e.rows, ...(e.line !== undefined ? { line: e.line } : {}), done: e.done } };
  }

  /** Sets a file's position (the loader moves it forward only). */
  update(key: string, p: Position): void {
    const e = this.#entries.get(key);
    if (!e) return;
    if (p.position === e.position && p.done === e.done && p.rows === e.rows) return;
    e.position = p.position;
    e.rows = p.rows;
    if (p.line !== undefined) e.line = p.line;
    else delete e.line;
    e.done = p.done;
    e.updated = new Date().toISOString();
    this.#dirty = true;
  }

  /**
   * Writes the checkpoint if it changed: a temp file next to it, fsynced, renamed over it.
   * `strict`: a failure throws (the first save, before anything is loaded); otherwise it is said
   * once on stderr through `warn` and the load goes on.
   */
  save(strict = false, warn: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): void {
    if (!this.#dirty) return;
    const doc: CheckpointDocument = {
      version: CHECKPOINT_VERSION,
      tool: 'fastinflux load',
      db: this.#db,
      rp: this.#rp ?? null,
      files: [...this.#entries.values()],
    };
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
    try {
      const fd = openSync(tmp, 'w', 0o644);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        // not made
      }
      const msg = `cannot write the checkpoint ${this.path}: ${(e as Error).message}`;
      if (strict) throw new CliError(msg);
      if (!this.#warned) warn(`fastinflux: warning: ${msg} (the load goes on; the checkpoint keeps its last position)`);
      this.#warned = true;
      return;
    }
    // The rename itself survives a crash once the directory is synced (best effort).
    try {
      const dfd = openSync(dirname(this.path), 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      // Some file systems cannot sync a directory.
    }
    this.#dirty = false;
  }
}

/** A point the input reached after a write, and the writer's accepted count then. */
interface Mark extends Position {
  accepted: number;
}

/**
 * The marks of one file being loaded, in order; `committed` is the furthest one whose points are
 * all delivered.
 */
export class FileMarks {
  readonly #marks: Mark[] = [];
  #head = 0;
  committed: Position;

  constructor(start: Position) {
    this.committed = { ...start };
  }

  /** After a write: the input reached `p`, and the writer has accepted `accepted` points in all. */
  add(accepted: number, p: Position): void {
    this.#marks.push({ ...p, accepted });
  }

  /** Moves `committed` over every mark whose points are delivered; true when it moved. */
  advance(deliveredBelow: number): boolean {
    let moved = false;
    while (this.#head < this.#marks.length && this.#marks[this.#head]!.accepted <= deliveredBelow) {
      const { accepted: _accepted, ...p } = this.#marks[this.#head++]!;
      this.committed = p;
      moved = true;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#marks.length) {
      this.#marks.splice(0, this.#head);
      this.#head = 0;
    }
    return moved;
  }
}
