import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble, SHARED_MODULES, WASM_MODULES } from '../../scripts/build-wasm.ts';

const core = join(import.meta.dirname, '../../src/core');

describe('WebAssembly kernels', () => {
  it('are all assembled by npm run wasm: every .wat under src/core is listed', () => {
    const found = readdirSync(core, { recursive: true, encoding: 'utf8' }).filter((path) => path.endsWith('.wat')).map((path) => relative(core, join(core, path)).slice(0, -'.wat'.length));
    expect(found.sort()).toEqual([...WASM_MODULES].sort());
  });

  for (const name of WASM_MODULES) {
    it(`run what ${name}.wat assembles to (npm run wasm after editing it)`, async () => {
      const generated = Object.values(await import(/* @vite-ignore */ join(core, `${name}-wasm.ts`)));
      const variants = SHARED_MODULES.includes(name) ? [false, true] : [false];
      expect(generated).toEqual(await Promise.all(variants.map(async (shared) => Buffer.from(await assemble(name, shared)).toString('base64'))));
    });
  }
});
