/**
 * The encoder worker: piscina's `filename` for `EncoderPool` (see `encoder-pool.ts` for how this
 * file is found from `dist/` and under vitest). One task = one or more row ranges of packed
 * layouts (`wire.ts`), encoded in order into the task's own request bodies, which go back
 * transferred (`Piscina.move`: their ArrayBuffers change owner, no copy).
 *
 * The kernel is chosen once per worker from `workerData`: the TypeScript encoder, or the WASM
 * encoder instantiated once here from the `WebAssembly.Module` the main thread compiled once
 * and sent in `workerData` (a Module is shared with workers, not recompiled).
 *
 * Nothing is thrown to piscina: a refused row and any other exception come back as values, so
 * that a rejected task always means that the worker itself died (see the pool's retry).
 *
 * Imports encode code only (and piscina, for `move` and `workerData`).
 * @module
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { ColumnarBodyWriter, encodeLayout as tsEncodeLayout, type ColumnarEncodeOptions } from '../encode/columnar/ts-encoder.js';
import type { ColumnarLayout } from '../encode/columnar/layout.js';
import type { InvalidPointError } from '../errors.js';
import { unpackRange, type EncodeTask, type EncodeTaskResult, type WireBody } from './wire.js';

/** What the main thread puts in `workerData`. */
export interface EncoderWorkerData {
  readonly kernel: 'ts' | 'wasm';
  /** kernel 'wasm': the encoder module, compiled once on the main thread (a Module is shared with workers, not recompiled). */
  readonly wasmModule?: WebAssembly.Module;
}

type EncodeFn = (layout: ColumnarLayout, writer: ColumnarBodyWriter, options: ColumnarEncodeOptions) => void;

async function loadKernel(data: EncoderWorkerData): Promise<EncodeFn> {
  if (data.kernel !== 'wasm') return tsEncodeLayout;
  if (!(data.wasmModule instanceof WebAssembly.Module)) throw new Error('encoder worker: kernel wasm without a WebAssembly.Module in workerData');
  // Loaded only by WASM workers; instantiated once per worker, from the main thread's Module.
  const { WasmEncoder } = await import('../encode/wasm/wasm-encoder.js');
  const encoder = new WasmEncoder(data.wasmModule);
  return (layout, writer, options) => encoder.encodeLayout(layout, writer, options);
}

const testHooks = process.env.FASTINFLUX_POOL_TEST === '1';
// Test-only: a worker that exits while starting, before it is ready (and so with no task).
if (testHooks && process.env.FASTINFLUX_POOL_TEST_START === 'exit') process.exit(1);
const data = (workerData ?? { kernel: 'ts' }) as EncoderWorkerData;
/** Instantiated once per worker, when the module loads (piscina awaits it before the first task). */
const kernelEncode = await loadKernel(data);
/** Line bytes per row of this worker's last task (0: none yet): sizes the next task's first buffer. */
let bytesPerRow = 0;

/** Test-only failures (`wire.ts`); a promise that never settles for 'uncaught' (the worker dies first). */
function crashForTest(task: EncodeTask): Promise<never> | undefined {
  const mode = task.crashForTest;
  if (mode === undefined || !testHooks) return undefined;
  if (mode === 'exit' || (mode === 'exitOnFirstAttempt' && task.attempt === 0)) process.exit(1);
  if (mode === 'throw') throw new Error('test: encoder kernel threw');
  if (mode === 'uncaught') {
    return new Promise<never>(() => {
      setImmediate(() => {
        throw new Error('test: uncaught exception in the encoder worker');
      });
    });
  }
  return undefined;
}

function isInvalidPoint(e: unknown): e is InvalidPointError {
  return e instanceof Error && (e as { code?: unknown }).code === 'FI_ERR_INVALID_POINT';
}

/** A result whose body buffers are transferred, not cloned. */
function moved(result: EncodeTaskResult & { ok: true }): unknown {
  const buffers = new Set<ArrayBuffer>();
  for (const b of result.bodies) buffers.add(b.body.buffer as ArrayBuffer);
  return move({
    get [transferableSymbol]() {
      return [...buffers];
    },
    get [valueSymbol]() {
      return result;
    },
  } as never);
}

export default function encodeTask(task: EncodeTask): unknown {
  let segment = 0;
  try {
    const dying = crashForTest(task);
    if (dying !== undefined) return dying;
    let rows = 0;
    for (const seg of task.segments) rows += seg.to - seg.from;
    // The first body's buffer at about its final size (the writer caps it at a body), rather than
    // grown from 64 KB by doubling: fewer copies and fresh pages.
    const writer = new ColumnarBodyWriter(task.maxBodyBytes, bytesPerRow === 0 ? undefined : Math.max(64 * 1024, Math.ceil(rows * bytesPerRow * 1.05)));
    const skipped: number[] = [];
    for (; segment < task.segments.length; segment++) {
      const s = task.segments[segment]!;
      const { layout, start } = unpackRange(s.layout, s.from, s.to);
      kernelEncode(layout, writer, {
        rowBase: s.layout.rowBase + start,
        from: s.from - start,
        to: s.to - start,
        nonFinite: task.nonFinite,
        invalidRows: task.invalidRows,
        allowNewlinesInStrings: task.allowNewlinesInStrings,
        skippedRows: skipped,
      });
    }
    const lines = writer.lineCount;
    const bodies: WireBody[] = writer.finish().map((b) => ({ body: b.body, lines: b.lines }));
    let bytes = 0;
    for (const b of bodies) bytes += b.body.length;
    if (lines > 0) bytesPerRow = bytes / lines;
    return moved({ ok: true, bodies, lines, skipped });
  } catch (e) {
    if (isInvalidPoint(e)) {
      return { ok: false, kind: 'invalid-point', segment, row: e.pointIndex, element: e.element, key: e.key, reason: e.reason } satisfies EncodeTaskResult;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    return { ok: false, kind: 'failure', name: err.name, message: err.message, stack: err.stack } satisfies EncodeTaskResult;
  }
}

/** A no-op task: the pool submits one to make piscina start a worker (see `EncoderPool`'s `#unstrand`). */
export function ping(): null {
  return null;
}
