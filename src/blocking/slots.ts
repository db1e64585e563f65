/**
 * The shared memory of the blocking mode: an Int32Array over a SharedArrayBuffer that the worker
 * writes and the calling thread reads while it waits (`Atomics.wait`). No imports: the worker
 * installs its exit hook with these before it loads anything that could fail.
 * @module
 */

/** Slots of the shared Int32Array (plain constants: the worker runs code transpiled file by file). */
export const Slot = {
  /** Incremented by the worker after each reply is posted: what the calling thread waits on. */
  Signal: 0,
  /** The worker's state (`WorkerState`). */
  State: 1,
  /** Incremented by the worker's event loop every `kHeartbeatMs`: it is alive and turning. */
  Heartbeat: 2,
} as const;
export const kSlots = 4;

export const WorkerState = {
  Starting: 0,
  Ready: 1,
  /** Set from the worker's `process.on('exit')`: process.exit(), an uncaught exception, the end. */
  Exited: 2,
  /** The worker's modules failed to load; the reason is posted with id 0. */
  Failed: 3,
} as const;

export const kHeartbeatMs = 200;

/** Query text that makes a worker started with FASTINFLUX_BLOCKING_TEST=1 die in a given way (tests only). */
export const kCrashForTestPrefix = '__fastinflux_blocking_crash_for_test:';
