/**
 * Loads the compiled encoder (`build/encoder.wasm`, or `build/encoder.debug.wasm` with runtime
 * checks) and compiles it once per process, synchronously, as undici does with llhttp: the
 * first WASM encode of a process pays for compilation (a few ms), every later one reuses the
 * `WebAssembly.Module`. A Module can also be posted to workers, which instantiate it without
 * compiling again (see `src/pool/worker.ts`).
 *
 * `build/` is made by `npm run build` (`build:wasm`: `asc` with `asconfig.json`), which `npm
 * test`, `npm run demo` and `npm pack` (`prepack`) run first. The path is relative to this file and resolves to the package
 * root both from `src/encode/wasm/` (tests) and from `dist/encode/wasm/` (the published build).
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `release`: -O3, no runtime checks. `debug`: unoptimised, with `assert`s (for tests). */
export type EncoderVariant = 'release' | 'debug';

const kFiles: Record<EncoderVariant, string> = {
  release: 'encoder.wasm',
  debug: 'encoder.debug.wasm',
};

const modules = new Map<EncoderVariant, WebAssembly.Module>();

/** Where the compiled encoder of `variant` lives. */
export function encoderWasmUrl(variant: EncoderVariant = 'release'): URL {
  return new URL(`../../../build/${kFiles[variant]}`, import.meta.url);
}

/** The encoder's compiled `WebAssembly.Module` (compiled on first use, then cached). */
export function getEncoderModule(variant: EncoderVariant = 'release'): WebAssembly.Module {
  const cached = modules.get(variant);
  if (cached !== undefined) return cached;
  if (!Object.hasOwn(kFiles, variant)) throw new TypeError(`unknown WASM encoder variant ${String(variant)} (expected 'release' or 'debug')`);
  const url = encoderWasmUrl(variant);
  let bytes: Buffer;
  try {
    bytes = readFileSync(url);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`the WASM encoder is not built: ${fileURLToPath(url)} is missing (run npm run build)`, { cause: e });
    }
    throw e;
  }
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  modules.set(variant, module);
  return module;
}
