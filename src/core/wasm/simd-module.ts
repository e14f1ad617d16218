/** Compiling the WebAssembly SIMD kernels (scripts/build-wasm.ts lists them) from their base64 bytes, once each, and their memories. */

/**
 * A function that compiles `base64` on its first call and then returns the same
 * module; it returns null where WebAssembly or its SIMD extension is missing,
 * or where the compiled module fails `accept`, and the caller falls back.
 */
export function simdModule(base64: string, accept: (module: WebAssembly.Module) => boolean = () => true): () => WebAssembly.Module | null {
  let module: WebAssembly.Module | null | undefined;
  return () => {
    if (module === undefined) {
      try {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
        module = compiled && accept(compiled) ? compiled : null;
      } catch {
        module = null;
      }
    }
    return module;
  };
}

/** WebAssembly memory grows in pages of this many bytes. */
export const WASM_PAGE_BYTES = 65_536;

/** A memory of at least `bytes` (and at least one page) for a kernel's instance. */
export function memoryFor(bytes: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES)) });
}

/** The most pages a shared memory may grow to (it must declare one): all a 32-bit memory has, as scripts/build-wasm.ts declares. */
export const SHARED_MAXIMUM_PAGES = 65_536;

/**
 * A shared memory of one page, which threads can use at once, for a kernel assembled to import one (build-wasm.ts's
 * SHARED_MODULES); null where shared memory cannot be had (a page that is not cross-origin isolated, or too little
 * address space: the engine reserves the whole maximum up front).
 */
export function sharedMemory(): WebAssembly.Memory | null {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: SHARED_MAXIMUM_PAGES, shared: true });
  } catch {
    return null;
  }
}
