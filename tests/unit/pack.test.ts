import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import type { ItemMeta } from '../../src/core/items.ts';
import type { PackContents, PackHeader } from '../../src/core/pack/contents.ts';
import { crc32 } from '../../src/core/pack/crc32.ts';
import {
  FORMAT_MAJOR,
  PACK_SIGNATURE,
  PREAMBLE_BYTES,
  PackError,
  SECTION,
  headerChecksum,
  sketchBytes,
  tableSpan,
  type PackSection,
  type SketchEncoding,
} from '../../src/core/pack/format.ts';
import { bytesSource, blobSource, httpRangeSource, type RangeSource } from '../../src/core/pack/range-source.ts';
import { openPack, type PackReader } from '../../src/core/pack/read.ts';
import { assemblePack, encodePack, type SectionInput } from '../../src/core/pack/write.ts';
import { fileSource, writePackFile } from '../../src/node/pack-file.ts';

// ---------------------------------------------------------------------------
// Helpers

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

interface Options {
  count?: number;
  dim?: number;
  bits?: number;
  seed?: number;
  thumbs?: 'none' | 'some' | 'all-null';
  /** A partition of this many lists, with sketches of 4 components (int8: format 1.1, int4: 1.2). */
  lists?: number;
  sketch?: SketchEncoding;
}

function makeContents({ count = 5, dim = 12, bits = 64, seed = 1, thumbs = 'none', lists, sketch = 'int8' }: Options = {}): PackContents {
  const random = seededRandom(seed);
  const floats = (n: number) => Float32Array.from({ length: n }, () => random() * 2 - 1);
  const header: PackHeader = {
    modelId: 'default',
    method: 'gap',
    dim,
    count,
    coder: { kind: 'itq', bits, seed: 42, trainedOn: count },
    vectors: 'int8',
    ...(lists ? { partition: { lists, dims: 4, sketch, trainedOn: count } } : {}),
  };
  const metas: ItemMeta[] = Array.from({ length: count }, (_, i) =>
    i % 3 === 0
      ? { id: `photos/${i}.jpg`, file: `photos/${i}.jpg`, width: 640 + i, height: 480 }
      : i % 3 === 1
        ? { id: `ünïcødé/日本語/${i} 📷.png`, title: 'Ĉu vi parolas? «Ja» — 你好 🙂\n\t"quoted"\\', price: 12.5, tags: ['a', 'ß'], nested: { z: 1, a: [null, true, false, { b: 'c' }] } }
        : { id: `item-${i}`, url: 'https://example.com/p?q=1&r=2', image: 'https://example.com/i.webp', lone: '\ud800 surrogate', empty: '', zero: 0, neg: -1e-7, big: 1e21 },
  );
  return {
    header,
    coder: { mean: floats(dim), projection: floats(bits * dim) },
    codes: Uint32Array.from({ length: (count * bits) / 32 }, () => Math.floor(random() * 2 ** 32)),
    vectors: Int8Array.from({ length: count * dim }, () => Math.floor(random() * 256) - 128),
    scales: Float32Array.from({ length: count }, () => random() * 0.02),
    metas,
    ...(thumbs === 'none'
      ? {}
      : {
          thumbs: Array.from({ length: count }, (_, i) =>
            thumbs === 'all-null' || i % 2 === 1 ? null : Uint8Array.from({ length: 10 + i * 7 }, (_, k) => (k * 31 + i) & 255),
          ),
        }),
    ...(lists
      ? {
          partition: {
            mean: floats(dim),
            projection: floats(4 * dim),
            centroids: floats(lists * 4),
            spread: sketch === 'int8' ? new Float32Array(4).fill(1) : Float32Array.from({ length: 4 }, () => 0.5 + random()),
            lists: Uint16Array.from({ length: count }, (_, i) => i % lists),
            scales: floats(count),
            sketches: Int8Array.from({ length: count * sketchBytes(4, sketch) }, () => Math.floor(random() * 256) - 128),
          },
        }
      : {}),
  };
}

function pack(contents: PackContents): Uint8Array {
  return concat(encodePack(contents));
}

async function open(bytes: Uint8Array): Promise<PackReader> {
  return openPack(bytesSource(bytes));
}

/** Runs `run` and returns the PackError it throws; fails the test if it throws nothing or something else. */
async function packError(run: () => unknown): Promise<PackError> {
  try {
    await run();
  } catch (e) {
    if (e instanceof PackError) return e;
    throw e;
  }
  throw new Error('Expected a PackError, but nothing was thrown.');
}

/** Re-computes the header CRC after a test has patched the preamble, header or table. */
function fixHeaderCrc(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { end } = tableSpan({ headerLength: view.getUint32(12, true), sectionCount: view.getUint32(16, true) });
  view.setUint32(20, headerChecksum(bytes.subarray(0, end)), true);
}

/** Wraps a source to record every read. */
function counting(source: RangeSource): RangeSource & { reads: [number, number][]; bytes(): number } {
  const reads: [number, number][] = [];
  return {
    size: source.size,
    reads,
    bytes: () => reads.reduce((n, [, length]) => n + length, 0),
    read(offset, length) {
      reads.push([offset, length]);
      return source.read(offset, length);
    },
  };
}

function sectionsOf(bytes: Uint8Array): Promise<readonly PackSection[]> {
  return open(bytes).then((r) => r.sections);
}

// ---------------------------------------------------------------------------

describe('crc32', () => {
  it('matches the standard check values and zlib, whole and in pieces, at any alignment', () => {
    const text = (s: string) => new TextEncoder().encode(s);
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(text('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    const random = seededRandom(7);
    const data = Uint8Array.from({ length: 5000 }, () => Math.floor(random() * 256));
    for (const [start, end] of [[0, 5000], [1, 4999], [3, 11], [5, 6], [2, 2], [7, 4096]] as const) {
      const part = data.subarray(start, end);
      expect(crc32(part)).toBe(zlib.crc32(part));
      const cut = start + Math.floor((end - start) / 3);
      expect(crc32(data.subarray(cut, end), crc32(data.subarray(start, cut)))).toBe(zlib.crc32(part));
    }
  });
});

describe('pack round trip', () => {
  const cases: [string, Options][] = [
    ['an empty index', { count: 0 }],
    ['one item', { count: 1 }],
    ['items with unicode and extra JSON fields, no thumbnails', { count: 7, dim: 12, bits: 96 }],
    ['some thumbnails', { count: 9, thumbs: 'some' }],
    ['thumbnails that are all absent', { count: 4, thumbs: 'all-null' }],
    ['dim not a multiple of 4, 1024-bit codes', { count: 3, dim: 5, bits: 1024 }],
    ['a partition and int8 sketches (format 1.1)', { count: 11, dim: 7, lists: 3, thumbs: 'some' }],
    ['a partition and int4 sketches (format 1.2)', { count: 11, dim: 7, lists: 3, sketch: 'int4' }],
  ];
  for (const [name, options] of cases) {
    it(`keeps ${name} exactly, through bytes and a Blob`, async () => {
      const contents = makeContents(options);
      const chunks = encodePack(contents);
      for (const source of [bytesSource(concat(chunks)), blobSource(new Blob(chunks))]) {
        const reader = await openPack(source);
        const back = await reader.readContents();
        const expected = options.thumbs === 'all-null' ? { ...contents, thumbs: undefined } : contents;
        expect(back).toEqual(expected);
        expect('thumbs' in back).toBe(options.thumbs === 'some');
        expect(reader.hasThumbs).toBe(options.thumbs === 'some');
        expect(reader.version).toEqual({ major: 1, minor: !options.lists ? 0 : options.sketch === 'int4' ? 2 : 1 });
        expect(await reader.readPartition()).toEqual(contents.partition ?? null);
        expect(reader.header).toEqual(contents.header);
        for (let i = 0; i < contents.header.count; i++) {
          expect(await reader.readMeta(i)).toEqual(contents.metas[i]);
          expect(await reader.readThumb(i)).toEqual(options.thumbs === 'some' ? contents.thumbs![i] : null);
        }
      }
    });
  }

  it('keeps unicode metadata byte-exact, lone surrogates included', async () => {
    const contents = makeContents({ count: 3 });
    const back = await (await open(pack(contents))).readMetas();
    expect(back[1]!.id).toBe('ünïcødé/日本語/1 📷.png');
    expect(back[1]!.title).toBe('Ĉu vi parolas? «Ja» — 你好 🙂\n\t"quoted"\\');
    expect(back[2]!.lone).toBe('\ud800 surrogate');
    expect(back[1]!.nested).toEqual({ z: 1, a: [null, true, false, { b: 'c' }] });
  });

  it('writes the meta section as one canonical JSON line per item, id first', async () => {
    const contents = makeContents({ count: 3 });
    const reader = await open(pack(contents));
    const text = new TextDecoder().decode((await reader.readSection(SECTION.meta))!);
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    expect(lines[0]).toBe('{"id":"photos/0.jpg","file":"photos/0.jpg","height":480,"width":640}');
    expect(lines[1]!.startsWith('{"id":"ünïcødé/日本語/1 📷.png","nested":{"a":[null,true,false,{"b":"c"}],"z":1},"price":12.5')).toBe(true);
    expect(lines.slice(0, 3).map((l) => JSON.parse(l))).toEqual(contents.metas);
  });

  it('leaves out metadata fields that are undefined', async () => {
    const contents = makeContents({ count: 1 });
    const metas: ItemMeta[] = [{ id: 'x', title: undefined, width: 3 }];
    const back = await (await open(pack({ ...contents, metas }))).readMetas();
    expect(Object.keys(back[0]!)).toEqual(['id', 'width']);
  });
});

describe('pack bytes', () => {
  it('are identical for equal contents, whatever the key order of the metadata', () => {
    const a = makeContents({ count: 6, thumbs: 'some' });
    const b = makeContents({ count: 6, thumbs: 'some' });
    const reordered = {
      ...b,
      metas: b.metas.map((m) => Object.fromEntries(Object.entries(m).reverse()) as ItemMeta),
      header: { vectors: 'int8', coder: { ...b.header.coder }, count: 6, dim: b.header.dim, method: 'gap', modelId: 'default' } as PackHeader,
    };
    expect(pack(a)).toEqual(pack(a));
    expect(pack(reordered)).toEqual(pack(a));
    expect(pack({ ...a, metas: [...a.metas.slice(1), a.metas[0]!] })).not.toEqual(pack(a));
  });

  it('have not changed since format 1.0 was fixed (update this hash only with a version bump)', () => {
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    // Built from arithmetic alone, so that nothing outside the pack code can move the hash.
    const dim = 6;
    const count = 3;
    const fixed: PackContents = {
      header: { modelId: 'default', method: 'gap', dim, count, coder: { kind: 'lsh', bits: 64, seed: 7, trainedOn: 100 }, vectors: 'int8' },
      coder: { mean: Float32Array.from({ length: dim }, (_, i) => i / 8), projection: Float32Array.from({ length: 64 * dim }, (_, i) => (i % 13) - 6.5) },
      codes: Uint32Array.from({ length: count * 2 }, (_, i) => (i * 0x9e3779b9) >>> 0),
      vectors: Int8Array.from({ length: count * dim }, (_, i) => i * 11 - 100),
      scales: Float32Array.of(0.25, 0.5, 0.125),
      metas: [{ id: 'a.jpg', width: 4, height: 3 }, { id: 'b/ç 😀.png', title: 'B', extra: { z: [1, null], a: true } }, { id: 'c' }],
      thumbs: [Uint8Array.of(0xff, 0xd8, 0xff, 0xd9), null, Uint8Array.of(1, 2, 3)],
    };
    const bytes = pack(fixed);
    expect(Array.from(bytes.subarray(0, 12))).toEqual([0x89, 0x4c, 0x4b, 0x50, 0x0d, 0x0a, 0x1a, 0x0a, 1, 0, 0, 0]);
    expect(bytes.subarray(0, 8)).toEqual(PACK_SIGNATURE);
    expect({ length: bytes.length, sha256: sha(bytes) }).toEqual(GOLDEN);
  });

  it('start every section on an 8-byte boundary, so views over the file need no copy', async () => {
    for (const options of [{ count: 0 }, { count: 3, dim: 5, thumbs: 'some' }, { count: 7, dim: 13, bits: 96 }] as Options[]) {
      const bytes = pack(makeContents(options));
      const reader = await open(bytes);
      expect(reader.sections.map((s) => s.name)).toEqual([
        'coder.mean', 'coder.projection', 'codes', 'vectors', 'scales', 'meta', 'meta.index',
        ...(options.thumbs === 'some' ? ['thumbs', 'thumbs.index'] : []),
      ]);
      for (const s of reader.sections) expect(s.offset % 8, s.name).toBe(0);
      const last = reader.sections.at(-1)!;
      expect(last.offset + last.length).toBe(bytes.length);
      const codes = await reader.readCodes();
      const scales = await reader.readScales();
      const { projection } = await reader.readCoder();
      expect(codes.buffer).toBe(bytes.buffer);
      expect(scales.buffer).toBe(bytes.buffer);
      expect(projection.buffer).toBe(bytes.buffer);
    }
  });

  it('are still read correctly from a source whose bytes are not aligned (copied)', async () => {
    const contents = makeContents({ count: 5, dim: 7, thumbs: 'some' });
    const bytes = pack(contents);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const reader = await open(shifted.subarray(3));
    const back = await reader.readContents();
    expect(back).toEqual(contents);
    expect(back.codes.byteOffset % 4).toBe(0);
    expect(back.codes.buffer).not.toBe(shifted.buffer);
  });
});

describe('damaged packs', () => {
  const contents = makeContents({ count: 6, dim: 9, thumbs: 'some' });
  const good = pack(contents);
  const readers: Record<string, (r: PackReader) => Promise<unknown>> = {
    [SECTION.coderMean]: (r) => r.readCoder(),
    [SECTION.coderProjection]: (r) => r.readCoder(),
    [SECTION.codes]: (r) => r.readCodes(),
    [SECTION.vectors]: (r) => r.readVectors(),
    [SECTION.scales]: (r) => r.readScales(),
    [SECTION.meta]: (r) => r.readMetas(),
    [SECTION.metaIndex]: (r) => r.readMetas(),
    [SECTION.thumbs]: (r) => r.readContents(),
    [SECTION.thumbsIndex]: (r) => r.readContents(),
  };

  it('name the section whose checksum fails when one bit flips in it', async () => {
    const sections = await sectionsOf(good);
    expect(sections).toHaveLength(9);
    for (const s of sections) {
      for (const at of [s.offset, s.offset + Math.floor(s.length / 2), s.offset + s.length - 1]) {
        const bad = good.slice();
        bad[at]! ^= 0x10;
        const reader = await open(bad); // opening reads no section
        for (const read of [readers[s.name]!, (r: PackReader) => r.readContents(), (r: PackReader) => r.readSection(s.name)]) {
          const error = await packError(() => read(reader));
          expect(error.code, s.name).toBe('corrupt');
          expect(error.section).toBe(s.name);
          expect(error.message).toBe(`Pack is corrupt: section "${s.name}" fails its checksum. Copy or download it again.`);
        }
      }
    }
  });

  it('are refused on open when any bit of the preamble lengths, header or table flips', async () => {
    const { end } = tableSpan({ headerLength: new DataView(good.buffer).getUint32(12, true), sectionCount: 9 });
    let checked = 0;
    for (let at = 10; at < end; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = good.slice();
        bad[at]! ^= 1 << bit;
        const error = await packError(() => open(bad));
        expect(error.code, `byte ${at} bit ${bit}`).toBe('corrupt');
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(8 * 400);
    const bad = good.slice();
    bad[PREAMBLE_BYTES + 2]! ^= 1; // inside the header JSON
    expect((await packError(() => open(bad))).message).toBe('Pack is corrupt: its header fails its checksum. Copy or download it again.');
  });

  it('are refused as truncated wherever they are cut', async () => {
    const sections = await sectionsOf(good);
    const vectors = sections.find((s) => s.name === SECTION.vectors)!;
    const cuts = [1, 7, 8, 20, PREAMBLE_BYTES + 5, sections[0]!.offset - 1, sections[0]!.offset + 3, vectors.offset + 10, good.length - 1];
    for (const cut of cuts) {
      const error = await packError(() => open(good.subarray(0, cut)));
      expect(error.code, `cut at ${cut}`).toBe('truncated');
      expect(error.message, `cut at ${cut}`).toMatch(/^Pack is truncated: .* ends at byte \d+ but the file has \d+ bytes\./);
    }
    const error = await packError(() => open(good.subarray(0, vectors.offset + 10)));
    expect(error.section).toBe(SECTION.vectors);
    expect(error.message).toBe(
      `Pack is truncated: section "vectors" ends at byte ${vectors.offset + vectors.length} but the file has ${vectors.offset + 10} bytes. Copy or download it again.`,
    );
    expect((await packError(() => open(good.subarray(0, good.length - 1)))).section).toBe(SECTION.thumbsIndex);
  });

  it('are refused when bytes follow the end', async () => {
    const longer = concat([good, new Uint8Array([0x1a])]);
    expect((await packError(() => open(longer))).code).toBe('corrupt');
  });

  it('are recognised as foreign when they are not packs at all', async () => {
    const jpeg = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, ...new Uint8Array(100));
    const random = seededRandom(3);
    const noise = Uint8Array.from({ length: 5000 }, () => Math.floor(random() * 256));
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(40));
    for (const [name, bytes] of [['jpeg', jpeg], ['noise', noise], ['png', png], ['text', new TextEncoder().encode('hi')]] as const) {
      const error = await packError(() => open(bytes));
      expect(error.code, name).toBe('foreign');
      expect(error.message).toBe('Not a Lookalike pack (unknown file signature).');
    }
    const empty = await packError(() => open(new Uint8Array(0)));
    expect(empty.code).toBe('foreign');
    expect(empty.message).toBe('Not a Lookalike pack (the file is empty).');
  });

  it('say so when a text-mode transfer rewrote the signature', async () => {
    const crlfToLf = concat([good.subarray(0, 4), good.subarray(5)]); // \r\n → \n
    const sevenBit = good.slice();
    sevenBit[0] = 0x09;
    for (const bad of [crlfToLf, sevenBit]) {
      const error = await packError(() => open(bad));
      expect(error.code).toBe('corrupt');
      expect(error.message).toMatch(/text-mode .* binary mode/);
    }
  });
});

describe('versions', () => {
  const contents = makeContents({ count: 3 });

  it('refuse a future major version with a message saying to update', async () => {
    const bytes = pack(contents);
    new DataView(bytes.buffer).setUint16(8, FORMAT_MAJOR + 1, true);
    fixHeaderCrc(bytes);
    const error = await packError(() => open(bytes));
    expect(error.code).toBe('version');
    expect(error.message).toBe('This pack was written by a newer Lookalike (format 2); this version reads format 1. Update Lookalike.');
    new DataView(bytes.buffer).setUint16(8, 0, true);
    fixHeaderCrc(bytes);
    expect((await packError(() => open(bytes))).code).toBe('version');
  });

  it('refuse a coder this version does not know', async () => {
    const json = new TextEncoder().encode(
      '{"modelId":"default","method":"gap","dim":12,"count":0,"coder":{"kind":"pq","bits":64,"seed":1,"trainedOn":0},"vectors":"int8"}',
    );
    const empty = pack(makeContents({ count: 0 }));
    const reader = await open(empty);
    const sections: SectionInput[] = await Promise.all(reader.sections.map(async (s) => ({ name: s.name, chunks: [(await reader.readSection(s.name))!] })));
    const error = await packError(() => open(concat(assemblePack(json, sections))));
    expect(error.code).toBe('version');
    expect(error.message).toMatch(/"pq".*Update Lookalike/);
  });

  it('read a newer minor version with extra sections and header keys, ignoring them', async () => {
    const reader = await open(pack(contents));
    const sections: SectionInput[] = await Promise.all(reader.sections.map(async (s) => ({ name: s.name, chunks: [(await reader.readSection(s.name))!] })));
    const extra = Uint8Array.of(1, 2, 3, 4, 5);
    sections.splice(2, 0, { name: 'mih.tables-v9', chunks: [extra] });
    sections.push({ name: 'future.stuff', chunks: [new Uint8Array(0)] });
    const header = JSON.stringify({ ...contents.header, createdBy: 'lookalike 9.0', colours: { a: 1 } });
    const bytes = concat(assemblePack(new TextEncoder().encode(header), sections, 7));
    const newer = await open(bytes);
    expect(newer.version).toEqual({ major: 1, minor: 7 });
    expect(newer.header).toEqual(contents.header);
    expect(newer.sections.map((s) => s.name)).toContain('mih.tables-v9');
    for (const s of newer.sections) expect(s.offset % 8).toBe(0);
    expect(await newer.readSection('mih.tables-v9')).toEqual(extra);
    expect(await newer.readSection('nonexistent')).toBeNull();
    expect(await newer.readContents()).toEqual(contents);
  });

  it('refuse a pack missing a required section, or with a section the wrong size', async () => {
    const reader = await open(pack(contents));
    const all: SectionInput[] = await Promise.all(reader.sections.map(async (s) => ({ name: s.name, chunks: [(await reader.readSection(s.name))!] })));
    const json = new TextEncoder().encode(JSON.stringify(contents.header));
    for (const name of [SECTION.codes, SECTION.metaIndex, SECTION.coderMean]) {
      const error = await packError(() => open(concat(assemblePack(json, all.filter((s) => s.name !== name)))));
      expect(error.code).toBe('corrupt');
      expect(error.message).toBe(`Pack is corrupt: required section "${name}" is missing. Copy or download it again.`);
    }
    const short = all.map((s) => (s.name === SECTION.scales ? { name: s.name, chunks: [new Uint8Array(8)] } : s));
    const error = await packError(() => open(concat(assemblePack(json, short))));
    expect(error.code).toBe('corrupt');
    expect(error.section).toBe(SECTION.scales);
    const half = [...all, { name: SECTION.thumbs, chunks: [Uint8Array.of(1)] }];
    expect((await packError(() => open(concat(assemblePack(json, half))))).section).toBe(SECTION.thumbsIndex);
  });

  it('refuse a partitioned pack missing a partition section, or filing an item under a list it does not have', async () => {
    const partitioned = makeContents({ count: 6, lists: 2, sketch: 'int4' });
    const reader = await open(pack(partitioned));
    const all: SectionInput[] = await Promise.all(reader.sections.map(async (s) => ({ name: s.name, chunks: [(await reader.readSection(s.name))!] })));
    const json = new TextEncoder().encode(JSON.stringify(partitioned.header));
    expect(reader.sections.map((s) => s.name)).not.toContain(SECTION.sketches); // int4 sketches have a section of their own
    for (const name of [SECTION.sketchesInt4, SECTION.partitionCentroids, SECTION.partitionSpread]) {
      const error = await packError(() => open(concat(assemblePack(json, all.filter((s) => s.name !== name)))));
      expect(error.message).toBe(`Pack is corrupt: required section "${name}" is missing. Copy or download it again.`);
    }
    const badList = all.map((s) => (s.name === SECTION.sketchLists ? { name: s.name, chunks: [new Uint8Array(Uint16Array.of(0, 1, 0, 1, 7, 0).buffer)] } : s));
    const error = await packError(async () => (await open(concat(assemblePack(json, badList)))).readPartition());
    expect(error.code).toBe('corrupt');
    expect(error.section).toBe(SECTION.sketchLists);
    expect(error.message).toMatch(/item 4 is filed under list 7 of 2/);
    const badSpread = all.map((s) => (s.name === SECTION.partitionSpread ? { name: s.name, chunks: [new Uint8Array(Float32Array.of(1, 0, 1, 1).buffer)] } : s));
    const spreadError = await packError(async () => (await open(concat(assemblePack(json, badSpread)))).readPartition());
    expect(spreadError.section).toBe(SECTION.partitionSpread);
    expect(spreadError.message).toMatch(/spread of sketch component 1 is 0/);
    const badScale = all.map((s) => (s.name === SECTION.sketchScales ? { name: s.name, chunks: [new Uint8Array(Float32Array.of(1, 1, NaN, 1, 1, 1).buffer)] } : s));
    const scaleError = await packError(async () => (await open(concat(assemblePack(json, badScale)))).readPartition());
    expect(scaleError.section).toBe(SECTION.sketchScales);
    expect(scaleError.message).toMatch(/sketch scale of item 2 is NaN/);
  });

  it('refuse sketches in an encoding it does not know as a newer version', async () => {
    const partitioned = makeContents({ count: 6, lists: 2, sketch: 'int4' });
    const reader = await open(pack(partitioned));
    const all: SectionInput[] = await Promise.all(reader.sections.map(async (s) => ({ name: s.name, chunks: [(await reader.readSection(s.name))!] })));
    const json = new TextEncoder().encode(JSON.stringify({ ...partitioned.header, partition: { ...partitioned.header.partition, sketch: 'int2' } }));
    const error = await packError(() => open(concat(assemblePack(json, all))));
    expect(error.code).toBe('version');
    expect(error.message).toMatch(/sketches as "int2"/);
  });
});

describe('encodePack validation', () => {
  const base = makeContents({ count: 4, dim: 6, thumbs: 'some' });
  const withMeta = (i: number, meta: unknown): PackContents => ({ ...base, metas: base.metas.map((m, k) => (k === i ? meta : m)) as ItemMeta[] });
  const cyclic: Record<string, unknown> = { id: 'cycle' };
  cyclic.self = { again: cyclic };
  const cases: [string, PackContents, RegExp][] = [
    ['dim not an integer', { ...base, header: { ...base.header, dim: 6.5 } }, /"dim"/],
    ['count negative', { ...base, header: { ...base.header, count: -1 } }, /"count"/],
    ['bits not a whole number of words', { ...base, header: { ...base.header, coder: { ...base.header.coder, bits: 80 } } }, /multiple of 32/],
    ['unknown coder', { ...base, header: { ...base.header, coder: { ...base.header.coder, kind: 'pq' as 'lsh' } } }, /"coder.kind"/],
    ['empty modelId', { ...base, header: { ...base.header, modelId: '' } }, /"modelId"/],
    ['negative seed', { ...base, header: { ...base.header, coder: { ...base.header.coder, seed: -1 } } }, /"coder.seed"/],
    ['mean too short', { ...base, coder: { ...base.coder, mean: new Float32Array(5) } }, /coder\.mean has 5 elements .* needs 6/],
    ['projection the wrong type', { ...base, coder: { ...base.coder, projection: new Float64Array(64 * 6) as unknown as Float32Array } }, /coder\.projection must be a Float32Array/],
    ['codes the wrong length', { ...base, codes: new Uint32Array(7) }, /codes has 7 elements/],
    ['codes the wrong type', { ...base, codes: new Int32Array(8) as unknown as Uint32Array }, /codes must be a Uint32Array/],
    ['vectors the wrong length', { ...base, vectors: new Int8Array(23) }, /vectors has 23/],
    ['scales with NaN', { ...base, scales: Float32Array.of(1, NaN, 1, 1) }, /scales\[1\] is not a finite number/],
    ['too few metas', { ...base, metas: base.metas.slice(1) }, /metas must be an array of 4/],
    ['duplicate ids', withMeta(2, { ...base.metas[0] }), /items 0 and 2 have the same id "photos\/0.jpg"/],
    ['empty id', withMeta(1, { id: '' }), /item 1's metadata needs an "id"/],
    ['numeric id', withMeta(1, { id: 7 }), /item 1's metadata needs an "id"/],
    ['null meta', withMeta(3, null), /item 3's metadata is not a plain object/],
    ['NaN in meta', withMeta(1, { id: 'n', width: NaN }), /non-finite number at the top level.width/],
    ['function in meta', withMeta(1, { id: 'f', f: () => 1 }), /not JSON \(function\)/],
    ['bigint in meta', withMeta(1, { id: 'b', n: 10n }), /not JSON \(bigint\)/],
    ['Date in meta', withMeta(1, { id: 'd', when: new Date(0) }), /not plain JSON \(\[object Date\]\)/],
    ['cycle in meta', withMeta(1, cyclic), /refers to itself/],
    ['sparse array in meta', withMeta(1, { id: 's', a: [1, , 3] }), /empty array slot/],
    ['thumbs the wrong length', { ...base, thumbs: [null] }, /thumbs must be an array of 4/],
    ['a thumb that is not bytes', { ...base, thumbs: [null, 'x', null, null] as unknown as (Uint8Array | null)[] }, /thumbs\[1\] must be a Uint8Array/],
    ['a partition without its header', { ...base, partition: makeContents({ count: 4, dim: 6, lists: 2 }).partition! }, /partition and header.partition come together/],
    ['a sketch filed under a missing list', { ...makeContents({ count: 4, dim: 6, lists: 2 }), partition: { ...makeContents({ count: 4, dim: 6, lists: 2 }).partition!, lists: Uint16Array.of(0, 1, 2, 0) } }, /partition.lists\[2\] is 2, but there are 2 lists/],
    ['a partition of 0 lists', { ...makeContents({ count: 4, dim: 6, lists: 2 }), header: { ...makeContents({ count: 4, dim: 6, lists: 2 }).header, partition: { lists: 0, dims: 4, sketch: 'int8', trainedOn: 4 } } }, /"partition.lists"/],
    ['int8 sketches with a spread', { ...makeContents({ count: 4, dim: 6, lists: 2 }), partition: { ...makeContents({ count: 4, dim: 6, lists: 2 }).partition!, spread: Float32Array.of(1, 2, 1, 1) } }, /partition.spread must be all 1/],
    ['int4 sketches of the int8 length', { ...makeContents({ count: 4, dim: 6, lists: 2, sketch: 'int4' }), partition: { ...makeContents({ count: 4, dim: 6, lists: 2, sketch: 'int4' }).partition!, sketches: new Int8Array(16) } }, /partition.sketches has 16 elements/],
  ];
  for (const [name, contents, message] of cases) {
    it(`rejects ${name}`, async () => {
      const error = await packError(() => encodePack(contents));
      expect(error.code).toBe('invalid');
      expect(error.message).toMatch(/^Can't write pack: /);
      expect(error.message).toMatch(message);
    });
  }
  it('accepts the base contents', () => {
    expect(() => encodePack(base)).not.toThrow();
  });
});

describe('range reads', () => {
  it('read one item with small range reads', async () => {
    const contents = makeContents({ count: 300, dim: 64, bits: 256, thumbs: 'some' });
    const bytes = pack(contents);
    expect(bytes.length).toBeGreaterThan(100_000);
    const source = counting(bytesSource(bytes));
    const reader = await openPack(source);
    expect(source.reads).toEqual([[0, 4096]]);
    source.reads.length = 0;
    expect(await reader.readMeta(123)).toEqual(contents.metas[123]);
    expect(source.reads).toHaveLength(2);
    expect(source.reads[0]![1]).toBe(8);
    expect(source.bytes()).toBeLessThan(400);
    source.reads.length = 0;
    expect(await reader.readThumb(200)).toEqual(contents.thumbs![200]);
    expect(await reader.readThumb(201)).toBeNull();
    expect(source.bytes()).toBe(8 + (10 + 200 * 7) + 8);
    await expect(reader.readMeta(300)).rejects.toThrow(RangeError);
    await expect(reader.readThumb(-1)).rejects.toThrow(RangeError);
  });

  it('open a pack whose header and table pass the first 4 KB with a second read', async () => {
    const contents = makeContents({ count: 1 });
    const reader = await open(pack(contents));
    const sections: SectionInput[] = await Promise.all(reader.sections.map(async (s) => ({ name: s.name, chunks: [(await reader.readSection(s.name))!] })));
    const header = JSON.stringify({ ...contents.header, notes: 'x'.repeat(5000) });
    const source = counting(bytesSource(concat(assemblePack(new TextEncoder().encode(header), sections))));
    expect(await (await openPack(source)).readContents()).toEqual(contents);
    expect(source.reads.slice(0, 2).map(([offset]) => offset)).toEqual([0, 4096]);
  });
});

describe('httpRangeSource', () => {
  const contents = makeContents({ count: 40, dim: 32, bits: 128, thumbs: 'some' });
  const bytes = pack(contents);
  const smallContents = makeContents({ count: 1, dim: 4 });
  const small = pack(smallContents);
  const requests: string[] = [];
  let server: Server;
  let base = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
      const body = req.url === '/empty.pack' ? new Uint8Array(0) : req.url === '/small-no-ranges.pack' ? small : bytes;
      if (req.url === '/missing.pack') {
        res.writeHead(404).end('not here');
        return;
      }
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (req.url?.includes('no-ranges') || !range || req.method === 'HEAD') {
        res.writeHead(200, { 'Content-Length': body.length, 'Content-Type': 'application/octet-stream' });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), body.length - 1);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${body.length}`, 'Content-Length': end - start + 1 });
      res.end(body.subarray(start, end + 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads a pack over HTTP Range requests: one request to open, two for an item', async () => {
    requests.length = 0;
    const source = await httpRangeSource(`${base}/index.pack`);
    expect(source.size).toBe(bytes.length);
    const reader = await openPack(source);
    expect(requests).toEqual(['GET /index.pack bytes=0-4095']);
    expect(await reader.readMeta(33)).toEqual(contents.metas[33]);
    expect(requests).toHaveLength(3);
    expect(await reader.readContents()).toEqual(contents);
    for (const r of requests) expect(r).toMatch(/^GET \/index\.pack bytes=\d+-\d+$/);
  });

  it('refuses a server that ignores Range, rather than downloading the whole file each time', async () => {
    await expect(httpRangeSource(`${base}/no-ranges.pack`)).rejects.toThrow(/ignores HTTP Range requests .*200 instead of 206/);
  });

  it('accepts a whole-file answer when the file is smaller than the first request', async () => {
    expect(small.length).toBeLessThan(4096);
    expect(await (await openPack(await httpRangeSource(`${base}/small-no-ranges.pack`))).readContents()).toEqual(smallContents);
  });

  it('reports HTTP errors and reads an empty file as foreign', async () => {
    await expect(httpRangeSource(`${base}/missing.pack`)).rejects.toThrow(/answered 404/);
    const empty = await httpRangeSource(`${base}/empty.pack`);
    expect(empty.size).toBe(0);
    expect((await packError(() => openPack(empty))).code).toBe('foreign');
  });

  it('uses the fetch it is given', async () => {
    let calls = 0;
    const fetchFn: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    await (await openPack(await httpRangeSource(new URL('/index.pack', base), fetchFn))).readScales();
    expect(calls).toBe(2);
  });
});

describe('pack files (Node)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lookalike-pack-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('write atomically and read back through fileSource', async () => {
    const path = join(dir, 'index.pack');
    const first = makeContents({ count: 20, thumbs: 'some' });
    await writePackFile(path, first);
    expect(new Uint8Array(await readFile(path))).toEqual(pack(first));
    const second = makeContents({ count: 8, seed: 9 });
    await writePackFile(path, second); // over an existing pack
    const source = await fileSource(path);
    try {
      const reader = await openPack(source);
      expect(await reader.readContents()).toEqual(second);
      expect(await reader.readMeta(4)).toEqual(second.metas[4]);
      expect((await reader.readCodes()).byteOffset % 4).toBe(0);
    } finally {
      await source.close();
    }
    await expect(writePackFile(path, { ...second, scales: new Float32Array(1) })).rejects.toThrow(PackError);
    expect(new Uint8Array(await readFile(path))).toEqual(pack(second));
    expect(await readdir(dir)).toEqual(['index.pack']);
  });

  it('refuse a file that is not a pack', async () => {
    const path = join(dir, 'photo.jpg');
    await writeFile(path, Uint8Array.of(0xff, 0xd8, 0xff, 0xe0));
    const source = await fileSource(path);
    expect((await packError(() => openPack(source))).code).toBe('foreign');
    await source.close();
  });
});

// Pinned bytes of format 1.0: see 'have not changed since format 1.0 was fixed'.
const GOLDEN = { length: 2384, sha256: '454d615ed5a357b4be113d61d98bceb3ac018f0bb3fe291909c4954e1c9aa824' };
