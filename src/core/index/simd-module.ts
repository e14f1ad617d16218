/** Compiling the WebAssembly SIMD kernels (sketch-scan.wat, matvec.wat) from their base64 bytes, once each. */

/**
 * A function that compiles `base64` on its first call and then returns the same
 * module; it returns null where WebAssembly or its SIMD extension is missing,
 * and the caller falls back to plain JavaScript.
 */
export function simdModule(base64: string): () => WebAssembly.Module | null {
  let module: WebAssembly.Module | null | undefined;
  return () => {
    if (module === undefined) {
      try {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        module = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
      } catch {
        module = null;
      }
    }
    return module;
  };
}
