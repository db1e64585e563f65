// Compiles assembly/number/test-entry.ts with the AssemblyScript compiler (programmatically, fully in
// memory: nothing is written to disk) and instantiates it.
//
// The repository's asconfig.json (whose entry is the encoder, assembly/index.ts) is deliberately
// NOT used: the build passes an explicit --config that resolves to nothing, so only the test entry
// and the options below are compiled.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

/** Repository root (this file lives in test/helpers/). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = 'assembly/number/test-entry.ts';
/** Name passed as --config; readFile answers null for it, so no asconfig.json is applied. */
const NO_CONFIG = '__fastinflux_no_asconfig__.json';

export interface NumberBuildOptions {
  /**
   * Debug variant: unoptimised, with `assert`s kept (range checks inside the Ryu port) and debug
   * info. Default: release variant, `-O3 --noAssert` (what the benchmarks use).
   */
  debug?: boolean;
}

/** Exports of assembly/number/test-entry.ts. i64/u64 parameters are BigInts on the JS side. */
export interface NumberTestExports {
  memory: WebAssembly.Memory;
  /** Address of the 64-byte scratch region the format* functions write to. */
  scratch(): number;
  /** Bump-allocates `size` bytes (may grow memory: re-read `memory.buffer` afterwards). */
  alloc(size: number): number;
  formatF64(x: number): number;
  formatI64(x: bigint): number;
  formatU64(x: bigint): number;
  /** Formats n f64 at ptrIn into ptrOut, each followed by '\n' (needs 26 * n bytes); returns bytes. */
  formatMany(ptrIn: number, n: number, ptrOut: number): number;
  /** Formats n i64 at ptrIn into ptrOut, each followed by '\n' (needs 21 * n bytes); returns bytes. */
  formatManyI64(ptrIn: number, n: number, ptrOut: number): number;
}

const binaries = new Map<boolean, Promise<Uint8Array>>();

/** The asc command line for the requested variant (exported for documentation / debugging). */
export function numberBuildArgs(debug: boolean): string[] {
  const outFile = debug ? 'number-test.debug.wasm' : 'number-test.wasm';
  return [
    ENTRY,
    '--outFile',
    outFile,
    '--runtime',
    'stub',
    '--baseDir',
    ROOT,
    '--config',
    NO_CONFIG,
    ...(debug ? ['--debug'] : ['-O3', '--noAssert']),
  ];
}

async function compile(debug: boolean): Promise<Uint8Array> {
  let binary: Uint8Array | undefined;
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  const { error } = await asc.main(numberBuildArgs(debug), {
    stdout,
    stderr,
    readFile: async (filename: string, baseDir: string) => {
      if (filename === NO_CONFIG) return null;
      try {
        return await readFile(resolve(baseDir, filename), 'utf8');
      } catch {
        return null;
      }
    },
    writeFile: (filename: string, contents: Uint8Array | string) => {
      if (filename.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
    listFiles: () => [],
  });
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.toString()}`);
  if (!binary) throw new Error(`asc produced no .wasm\n${stderr.toString()}`);
  return binary;
}

/** Compiled bytes of the number test module (cached per variant for the process). */
export function compileNumberTestModule(options: NumberBuildOptions = {}): Promise<Uint8Array> {
  const debug = options.debug === true;
  let p = binaries.get(debug);
  if (!p) {
    p = compile(debug);
    binaries.set(debug, p);
    p.catch(() => binaries.delete(debug));
  }
  return p;
}

/** Reads an AssemblyScript string (UTF-16, byte length at ptr - 4) out of `memory`. */
function readAsString(memory: WebAssembly.Memory | undefined, ptr: number): string {
  if (!memory || ptr === 0) return '';
  const buf = memory.buffer;
  const len = new Uint32Array(buf, ptr - 4, 1)[0]!;
  return Buffer.from(buf, ptr, len).toString('utf16le');
}

/** Compiles (once per variant) and instantiates assembly/number/test-entry.ts. */
export async function buildNumberTestModule(options: NumberBuildOptions = {}): Promise<WebAssembly.Instance> {
  const bytes = await compileNumberTestModule(options);
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      // Only the debug variant imports this (failed `assert`).
      abort(msg: number, file: number, line: number, column: number): never {
        throw new Error(`wasm abort: ${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${column}`);
      },
    },
  };
  const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  const instance = await WebAssembly.instantiate(module, imports);
  memory = instance.exports.memory as WebAssembly.Memory;
  return instance;
}

/** `buildNumberTestModule` with typed exports. */
export async function buildNumberTestExports(options: NumberBuildOptions = {}): Promise<NumberTestExports> {
  const instance = await buildNumberTestModule(options);
  return instance.exports as unknown as NumberTestExports;
}
