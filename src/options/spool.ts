/**
 * The batch writer's durable spool option (`writer({ spool })`): its types, its default and its
 * check. What the spool found on opening (SpoolRecovery) is reported in these words too.
 */
import { checkKeys, fail, isPlainObject, optInt, typeName } from './validate.js';

export interface SpoolOptions {
  /** The spool's directory (created if missing); one process at a time (a lock file holds its pid). */
  dir: string;
  /** Disk bound in bytes (default 1 GiB); when reached, `whenFull` applies. */
  maxBytes?: number;
  /** Told what a restart found in the spool (default: one line on stderr, as a process warning). */
  onRecover?: (report: SpoolRecovery) => void;
}

/** What a writer found in its spool on opening it. */
export interface SpoolRecovery {
  dir: string;
  /** Points (lines) left by an earlier process, sent again before new writes. */
  points: number;
  records: number;
  /** When the oldest of them was accepted (ms since the epoch), undefined when none. */
  oldestAcceptedAt: number | undefined;
  /** Damaged records skipped (checksum), with their points when known. */
  damaged: { records: number; points: number };
  /** Bytes of a torn last record (a crash while writing it) cut off: never acknowledged to a write(). */
  tornBytes: number;
}

export interface ResolvedSpoolOptions {
  dir: string;
  maxBytes: number;
  onRecover: ((report: SpoolRecovery) => void) | undefined;
}

export const SPOOL_DEFAULTS = {
  maxBytes: 1024 * 1024 * 1024,
};

const kSpoolKeys = new Set(['dir', 'maxBytes', 'onRecover']);

/** Checks `spool` (`what`: the writer options' name in messages); the writer checks it against whenFull. */
export function resolveSpoolOptions(given: unknown, what: string): ResolvedSpoolOptions {
  if (!isPlainObject(given)) fail(`${what}.spool must be an object { dir, maxBytes? } (got ${typeName(given)})`);
  checkKeys(given, kSpoolKeys, 'writer options.spool');
  if (typeof given.dir !== 'string' || given.dir === '') fail(`${what}.spool.dir must be a directory path (got ${typeName(given.dir)})`);
  const maxBytes = optInt(given, 'maxBytes', `${what}.spool`, 1024 * 1024, Number.MAX_SAFE_INTEGER) ?? SPOOL_DEFAULTS.maxBytes;
  if (given.onRecover !== undefined && typeof given.onRecover !== 'function') fail(`${what}.spool.onRecover must be a function (got ${typeName(given.onRecover)})`);
  return { dir: given.dir, maxBytes, onRecover: given.onRecover as ResolvedSpoolOptions['onRecover'] };
}
