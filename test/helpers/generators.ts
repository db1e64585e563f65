/**
 * Seeded data for the tests, from the benchmarks' sources so that both use the same numbers:
 * `prng` (mulberry32, bench/lib/prng.mjs, typed by prng.d.mts) and the standard workload
 * (bench/lib/workload.mjs: untyped JavaScript, imported through a URL so that tsc does not ask
 * for its types; the types below are the part the tests use).
 */
import type * as A from 'apache-arrow';
import type { Point } from '../../src/index.js';

export { prng } from '../../bench/lib/prng.mjs';

/** The standard workload's columns (host indexes into hostRegion and hostRack; status indexes STATUSES). */
export interface Workload {
  n: number;
  host: Uint16Array;
  hostRegion: Uint8Array;
  hostRack: Uint8Array;
  usageUser: Float64Array;
  usageSystem: Float64Array;
  requests: Int32Array;
  status: Uint8Array;
}

interface WorkloadModule {
  START_NS: bigint;
  makeWorkload(n?: number, seed?: number): Workload;
  toPoints(w: Workload): Point[];
  toArrowTable(w: Workload): A.Table;
}

const workload = (await import(new URL('../../bench/lib/workload.mjs', import.meta.url).href)) as WorkloadModule;

/** 2024-01-01T00:00:00Z in nanoseconds: the workload's first timestamp. */
export const START_NS: bigint = workload.START_NS;
export const makeWorkload: WorkloadModule['makeWorkload'] = workload.makeWorkload;
export const toPoints: WorkloadModule['toPoints'] = workload.toPoints;
export const toArrowTable: WorkloadModule['toArrowTable'] = workload.toArrowTable;
