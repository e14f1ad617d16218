/**
 * Quantised sketches and the loop that scores them: the hot loop of a
 * partitioned search (a million-item index scans 200 000 sketches a query by default).
 *
 * A sketch is `dims` components with one scale per sketch, each component an
 * int8 (−127 … 127) or, packed two to a byte, an int4 (−7 … 7). int4 is the
 * default for new partitions: at the same 128 bytes, 256 int4 components kept
 * the true top 10 within the best 40 by sketch score 0.96 of the time, 128 int8
 * ones 0.86 of the time (scratch experiment, 200k synthetic items).
 *
 * The sketches live in a WebAssembly.Memory, so that the SIMD kernel
 * (sketch-scan.wat, i32x4.dot_i16x8_s) reads them where they are. The query is
 * quantised to integers and every product is an exact integer, so the kernel and
 * the plain-JS loop (for engines without WebAssembly SIMD) give identical
 * scores: f32(dot) · scale, both in f32. int4 sketches are scored with relaxed
 * SIMD where the engine has it (sketch-scan-relaxed.wat: 50 000 whole sketches
 * in 0.51 ms against 0.64 in Chromium 150), which takes the query as int8: so an int4
 * sketch's query is quantised to −127 … 127 on every path (at 100 000 items,
 * recall@10 was the same as with −16 383 … 16 383: 0.986, scratch experiment),
 * and the scores stay the same whichever kernel runs.
 *
 * Each sketch is kept in two parts: its *head*, the first HEAD_DIMS components
 * (the strongest principal directions), and the rest. The heads sit together,
 * so a first pass over many sketches streams a quarter of their bytes (a scan
 * of 200 000 heads took 1.1 ms where whole sketches took 3.1 ms in Node,
 * bench:kernels); the rest is read only for the few that pass (inverted-lists.ts).
 *
 * Memory layout: heads [0, capacity·headBytes); rests [capacity·headBytes,
 * capacity·sketchBytes); the scales (f32 × capacity, from the next multiple
 * of 16); then the query (int16 × dims), and per scan the slots to score
 * (u32), their scores (f32), and the indexes `atLeast` picks (u32).
 */
import { sketchBytes, type SketchEncoding } from '../pack/format.ts';
import { quantizeQuery } from '../vectors/quantize.ts';
import { memoryFor, sharedMemory, simdModule, WASM_PAGE_BYTES } from '../wasm/simd-module.ts';
import type { ScanKernel, ScanThread } from './scan-thread.ts';
import { compiledSelectKernel, compiledSharedSelectKernel, indexesAtLeast, type AtLeastFunction } from './select-scores.ts';
import { SKETCH_SCAN_RELAXED_SHARED_WASM_BASE64, SKETCH_SCAN_RELAXED_WASM_BASE64 } from './sketch-scan-relaxed-wasm.ts';
import { SKETCH_SCAN_SHARED_WASM_BASE64, SKETCH_SCAN_WASM_BASE64 } from './sketch-scan-wasm.ts';

/**
 * Room kept after the sketches and scales for the query, a scan's slots, its scores and a pick of them (a scan of
 * 200 000 needs 2.4 MB), or what a scan of every slot needs where that is less; larger scans grow the memory.
 */
const SCRATCH_BYTES = 5 << 19;
/**
 * The query's largest integer: for int8 sketches 16 383 (products stay exact in int32 up to 1024 components); for int4
 * ones 127, what the relaxed kernel's int8 operand holds.
 */
const QUERY_MAX: Record<SketchEncoding, number> = { int8: 16_383, int4: 127 };
/** Components in a sketch's head; a sketch no longer than this, or whose length is not a multiple of HEAD_STEP, is all head. */
export const HEAD_DIMS = 64;
/** A head's length is a multiple of this: one int4 block of the kernel. */
const HEAD_STEP = 32;

/** The largest component of each encoding. */
const LEVELS: Record<SketchEncoding, number> = { int8: 127, int4: 7 };

/** Where component j of an int4 sketch sits: its byte and whether it is the high nibble. */
const int4Byte = (j: number) => (j >> 5) * 16 + (j & 15);
const int4High = (j: number) => (j & 16) !== 0;
/** Component j's signed nibble of its (int8) byte. */
const nibble = (byte: number, j: number) => (int4High(j) ? byte >> 4 : (byte << 28) >> 28);

/**
 * The compiled kernels, or null where WebAssembly SIMD (or its relaxed extension) is missing, or where the relaxed
 * kernel's scores differ from what the plain one gives: a relaxed instruction's result is the engine's own outside
 * the range the kernel keeps to, and an engine's may be wrong inside it (Node 20's, behind a flag, is).
 */
const kernels = {
  unshared: { plain: simdModule(SKETCH_SCAN_WASM_BASE64), relaxed: simdModule(SKETCH_SCAN_RELAXED_WASM_BASE64, (module) => scan4Agrees(module, memoryFor(0))), select: compiledSelectKernel },
  /** The same, importing a shared memory (scan-thread.ts). */
  shared: {
    plain: simdModule(SKETCH_SCAN_SHARED_WASM_BASE64),
    relaxed: simdModule(SKETCH_SCAN_RELAXED_SHARED_WASM_BASE64, (module) => { const memory = sharedMemory(); return memory !== null && scan4Agrees(module, memory); }),
    select: compiledSharedSelectKernel,
  },
};
/**
 * Scans of fewer sketches than this (four of the thread's chunks, 0.1–0.16 ms of work in a million-item arena in
 * Chromium) stay on the calling thread: waking the thread costs a notify, and a thread that wakes late finds a short
 * scan over. Over 50 000 sketches there, with the thread awake, one thread took 0.66–0.98 ms and two 0.50–0.63 (scratch).
 */
export const THREAD_SCAN_MIN = 8192;

export class SketchArray {
  private readonly memory: WebAssembly.Memory;
  private readonly kernel: ScanKernel | null;
  /** The thread that scores a part of large scans, and its attachment of this array (null: none, or the memory is not shared). */
  private readonly thread: { readonly thread: ScanThread; readonly attachment: number } | null = null;
  private readonly selectKernel: AtLeastFunction | null;
  /** Where the last scan's scores are in memory, and how many (null: none since the array last grew). */
  private lastScan: { readonly at: number; readonly count: number } | null = null;
  /** Whether the scan kernel is the relaxed-SIMD one. */
  readonly relaxed: boolean;
  private capacity = 0;
  /** Bytes per sketch, as stored (`put`, `sketch`: head and rest back to back). */
  readonly sketchBytes: number;
  /** Components in each head (all of them when the sketch is not split). */
  readonly headDims: number;
  private readonly headBytes: number;
  private readonly restBytes: number;
  /** Where the query of the next scans sits (−1: none since the array last grew). */
  private queryAt = -1;
  /** Slots 0, 1, 2, … as `scoreFirst` scans them (grown as it needs). */
  private firstSlots = new Uint32Array(0);
  /** `encode`'s scratch sketch, and `put`'s scale as the one-long array `putRun` takes. */
  private readonly encoded: Int8Array;
  private readonly oneScale = new Float32Array(1);

  /**
   * `simd: false` keeps to plain JavaScript, `relaxed: false` to the plain SIMD kernel (for tests; the scores are the
   * same). `thread`: one to score a part of each scan of THREAD_SCAN_MIN sketches or more, where the memory can be
   * shared and the kernel is SIMD (the scores are the same again).
   */
  constructor(readonly dims: number, readonly encoding: SketchEncoding, capacity: number, options: { readonly simd?: boolean; readonly relaxed?: boolean; readonly headDims?: number; readonly thread?: ScanThread | null } = {}) {
    const simd = options.simd !== false && dims % (encoding === 'int8' ? 16 : 32) === 0;
    // Shared only where the kernels can run on it (else the thread would cost the SIMD kernels).
    const shared = options.thread && simd && kernels.shared.plain() && kernels.shared.select() ? sharedMemory() : null;
    const compiled = shared ? kernels.shared : kernels.unshared;
    this.memory = shared ?? memoryFor(0);
    this.sketchBytes = sketchBytes(dims, encoding);
    const head = options.headDims ?? HEAD_DIMS;
    this.headDims = dims > head && dims % HEAD_STEP === 0 && head > 0 && head % HEAD_STEP === 0 ? head : dims;
    this.headBytes = this.headDims === dims ? this.sketchBytes : sketchBytes(this.headDims, encoding);
    this.restBytes = this.sketchBytes - this.headBytes;
    this.encoded = new Int8Array(this.sketchBytes);
    const relaxed = simd && encoding === 'int4' && options.relaxed !== false ? compiled.relaxed() : null;
    const module = relaxed ?? (simd ? compiled.plain() : null);
    const exports = module && new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports;
    const kernelName = encoding === 'int8' ? 'scan8' : 'scan4';
    this.kernel = exports ? (exports[kernelName] as ScanKernel) : null;
    if (shared && module) this.thread = { thread: options.thread!, attachment: options.thread!.attach(shared, module, kernelName) };
    const select = options.simd === false ? null : compiled.select();
    this.selectKernel = select && (new WebAssembly.Instance(select, { env: { memory: this.memory } }).exports.atLeast as AtLeastFunction);
    this.relaxed = relaxed !== null;
    this.reserve(capacity);
  }

  /** Whether scores come from the WebAssembly SIMD kernel. */
  get simd(): boolean {
    return this.kernel !== null;
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength + this.firstSlots.byteLength;
  }

  /** Quantises `values` (dims of them) into the sketch at `slot`, one scale for all; returns the scale (values ≈ scale · components). */
  encode(values: Float32Array, slot: number): number {
    const { dims, encoding } = this;
    const levels = LEVELS[encoding];
    const sketch = this.encoded.fill(0);
    let maxAbs = 0;
    for (let j = 0; j < dims; j++) maxAbs = Math.max(maxAbs, Math.abs(values[j]!));
    if (maxAbs > 0) {
      const toInt = levels / maxAbs;
      for (let j = 0; j < dims; j++) {
        const component = Math.round(values[j]! * toInt);
        if (encoding === 'int8') sketch[j] = component;
        else sketch[int4Byte(j)] = sketch[int4Byte(j)]! | (int4High(j) ? component << 4 : component & 15);
      }
    }
    this.put(slot, sketch, maxAbs / levels);
    return this.scale(slot);
  }

  /** Stores a sketch (sketchBytes, as `sketch` returns it) and its scale at `slot`. */
  put(slot: number, sketch: Int8Array, scale: number): void {
    this.oneScale[0] = scale;
    this.putRun(slot, sketch, this.oneScale, 1);
  }

  /** Stores `count` sketches, back to back in `sketches`, and their scales at slots first … first + count − 1. */
  putRun(first: number, sketches: Int8Array, scales: Float32Array, count: number): void {
    const { headBytes, restBytes } = this;
    const bytes = this.bytes();
    this.scales().set(scales.subarray(0, count), first);
    if (restBytes === 0) {
      bytes.set(sketches.subarray(0, count * headBytes), first * headBytes);
      return;
    }
    const rests = this.capacity * headBytes;
    for (let i = 0, at = 0; i < count; i++, at += this.sketchBytes) {
      bytes.set(sketches.subarray(at, at + headBytes), (first + i) * headBytes);
      bytes.set(sketches.subarray(at + headBytes, at + this.sketchBytes), rests + (first + i) * restBytes);
    }
  }

  /** A copy of the sketch at `slot`, head then rest. */
  sketch(slot: number): Int8Array {
    const { headBytes, restBytes } = this;
    const bytes = this.bytes();
    const out = new Int8Array(this.sketchBytes);
    out.set(bytes.subarray(slot * headBytes, (slot + 1) * headBytes));
    const rest = this.capacity * headBytes + slot * restBytes;
    out.set(bytes.subarray(rest, rest + restBytes), headBytes);
    return out;
  }

  /** The values the sketch at `slot` stands for (its scale times its components) into `out`, as `encode` was given them. */
  decode(slot: number, out: Float32Array): void {
    const sketch = this.sketch(slot);
    const scale = this.scale(slot);
    for (let j = 0; j < this.dims; j++) out[j] = scale * (this.encoding === 'int8' ? sketch[j]! : nibble(sketch[int4Byte(j)]!, j));
  }

  /** The scale of the sketch at `slot`. */
  scale(slot: number): number {
    return this.scales()[slot]!;
  }

  /** Fills slots 0 … count − 1 with the sketches and scales of `source` (an array of the same shape) at `from[0 … count)`. */
  copyFrom(source: SketchArray, from: Uint32Array, count: number): void {
    if (source.dims !== this.dims || source.encoding !== this.encoding || source.headBytes !== this.headBytes) throw new RangeError('Sketches copy only between arrays of one shape.');
    if (count > this.capacity) throw new RangeError(`${count} sketches do not fit in ${this.capacity}.`);
    // A 32-bit word at a time where the parts are whole words (the default 32 + 96 bytes are).
    const unit = this.headBytes % 4 === 0 && this.restBytes % 4 === 0 ? 4 : 1;
    const view = (array: SketchArray) => (unit === 4 ? new Int32Array(array.memory.buffer) : new Int8Array(array.memory.buffer));
    const [a, b] = [view(source), view(this)];
    for (const [part, bytes] of [[0, this.headBytes], [1, this.restBytes]] as const) {
      const words = bytes / unit;
      const sourceBase = (part * source.capacity * this.headBytes) / unit;
      const base = (part * this.capacity * this.headBytes) / unit;
      for (let i = 0; i < count; i++) {
        for (let w = 0, x = sourceBase + from[i]! * words, y = base + i * words; w < words; w++) b[y + w] = a[x + w]!;
      }
    }
    const [sourceScales, scales] = [source.scales(), this.scales()];
    for (let i = 0; i < count; i++) scales[i] = sourceScales[from[i]!]!;
  }

  reserve(capacity: number): void {
    if (capacity <= this.capacity) return;
    const scales = this.scales().slice();
    // (The query and its padding, and per slot a scan of all of them takes (rounded up to 4): u32, f32 and u32.)
    const wholeScan = 2 * this.dims + 32 + 12 * (capacity + 3);
    this.ensure(scalesAt(capacity, this.sketchBytes) + 4 * capacity + Math.min(SCRATCH_BYTES, wholeScan));
    // The rests move up to make room for the new heads, and the scales after them.
    this.bytes().copyWithin(capacity * this.headBytes, this.capacity * this.headBytes, this.capacity * this.sketchBytes);
    this.capacity = capacity;
    this.scales().set(scales);
    this.queryAt = -1; // the query's place is now the scales'
    this.lastScan = null;
  }

  /**
   * Quantises the query (dims values) for the scans that follow, until the
   * next call; returns the unit of their scores (query · (scale · sketch) ≈ unit · score).
   */
  setQuery(query: Float32Array): number {
    const { dims } = this;
    this.queryAt = this.scratchAt();
    this.ensure(this.queryAt + 2 * dims);
    return quantizeQuery(query.subarray(0, dims), QUERY_MAX[this.encoding], new Int16Array(this.memory.buffer, this.queryAt, dims));
  }

  /** Writes into `out[0 … count)` the score of each of `slots[0 … count)` by its head alone (a cheaper, rougher score). Searches take `scan`'s view instead. */
  headScores(slots: Uint32Array, count: number, out: Float32Array): void {
    out.set(this.scan(false, slots, count));
  }

  /** Writes into `out[0 … count)` the score of each of `slots[0 … count)`. Searches take `scan`'s view instead. */
  scores(slots: Uint32Array, count: number, out: Float32Array): void {
    out.set(this.scan(true, slots, count));
  }

  /**
   * Writes into `out[0 … count)` the whole score of each of the first `count` slots against `query`, as a product
   * with the values they stand for (`unit` applied); sets the query of the scans that follow to `query`. (A matrix
   * times a vector, where the sketches are its rows.)
   */
  scoreFirst(count: number, query: Float32Array, out: Float32Array): void {
    if (this.firstSlots.length < count) this.firstSlots = Uint32Array.from({ length: count }, (_, slot) => slot);
    const unit = this.setQuery(query);
    const scores = this.scan(true, this.firstSlots, count);
    for (let i = 0; i < count; i++) out[i] = scores[i]! * unit;
  }

  /**
   * The score of each of `slots[0 … count)`, whole or by its head alone, as a view of the array's memory: valid until
   * the next scan, `setQuery` or growth (read it, or pick from it with `atLeast`, before anything else uses the array).
   */
  scan(whole: boolean, slots: Uint32Array, count: number): Float32Array {
    if (this.queryAt < 0) throw new Error('A sketch scan needs setQuery first, and again after the array grows.');
    const { headDims, headBytes, restBytes } = this;
    const restDims = whole ? this.dims - headDims : 0;
    const rests = this.capacity * headBytes;
    const scales = scalesAt(this.capacity, this.sketchBytes);
    // scan4 scores four at a time: the slots run on to a multiple of 4 with copies of the last, whose scores are dropped
    // (scan8, one at a time, scores those up to three copies too, for nothing).
    const padded = (count + 3) & ~3;
    const slotsAt = align16(this.queryAt + 2 * this.dims);
    const outAt = slotsAt + 4 * padded;
    // (And room after the scores for the indexes `atLeast` picks.)
    this.ensure(outAt + 8 * padded);
    const { buffer } = this.memory;
    const out = new Float32Array(buffer, outAt, count);
    this.lastScan = { at: outAt, count };
    if (this.kernel) {
      if (count === 0) return out;
      const slotsIn = new Uint32Array(buffer, slotsAt, padded);
      slotsIn.set(slots.subarray(0, count));
      slotsIn.fill(slots[count - 1]!, count);
      const args = [0, headBytes, headDims, rests, restBytes, restDims, scales, this.queryAt] as const;
      if (this.thread && padded >= THREAD_SCAN_MIN) this.thread.thread.scan(this.thread.attachment, this.kernel, args, slotsAt, padded, outAt);
      else this.kernel(...args, slotsAt, padded, outAt);
      return out;
    }
    const q = new Int16Array(buffer, this.queryAt, this.dims);
    const bytes = this.bytes();
    const scaleOf = this.scales();
    const int8 = this.encoding === 'int8';
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      let sum = 0;
      let at = slot * headBytes;
      for (let j = 0; j < headDims; j++) sum += q[j]! * (int8 ? bytes[at + j]! : nibble(bytes[at + int4Byte(j)]!, j));
      at = rests + slot * restBytes;
      for (let j = 0; j < restDims; j++) sum += q[headDims + j]! * (int8 ? bytes[at + j]! : nibble(bytes[at + int4Byte(j)]!, j));
      out[i] = Math.fround(sum) * scaleOf[slot]!;
    }
    return out;
  }

  /**
   * The indexes, in increasing order, of `scores` (the last scan's, as `scan` returned them) at or above `threshold`
   * (as a float32), in `into` (a view of it): the kernel's pick where the scores are, or the same loop as elsewhere
   * without SIMD.
   */
  atLeast(scores: Float32Array, threshold: number, into: Uint32Array): Uint32Array {
    const last = this.lastScan;
    if (!last || scores.buffer !== this.memory.buffer || scores.byteOffset !== last.at || scores.length !== last.count) {
      throw new Error('atLeast picks from the last scan\'s scores, as scan returned them (scan again after the array grows).');
    }
    const { at, count } = last;
    if (into.length < count) throw new RangeError(`Room for ${into.length} indexes, not the ${count} a scan may pass.`);
    if (!this.selectKernel) return indexesAtLeast(scores, threshold, into);
    const indexesAt = at + 4 * ((count + 3) & ~3);
    const n = this.selectKernel(at, count, threshold, indexesAt);
    into.set(new Uint32Array(this.memory.buffer, indexesAt, n));
    return into.subarray(0, n);
  }

  /** The memory's bytes (a fresh view: growing the memory detaches old ones). */
  private bytes(): Int8Array {
    return new Int8Array(this.memory.buffer);
  }

  /** The scales, one per slot, after the sketches. */
  private scales(): Float32Array {
    return new Float32Array(this.memory.buffer, scalesAt(this.capacity, this.sketchBytes), this.capacity);
  }

  /** Where the query and a scan's slots and scores go: after the scales. */
  private scratchAt(): number {
    return align16(scalesAt(this.capacity, this.sketchBytes) + 4 * this.capacity);
  }

  /** Grows the memory to hold `bytes` (from address 0), by exactly what is missing: the caller sizes `capacity` with headroom. */
  private ensure(bytes: number): void {
    const missing = Math.ceil((bytes - this.memory.buffer.byteLength) / WASM_PAGE_BYTES);
    if (missing > 0) this.memory.grow(missing);
  }
}

/** Where the scales start: after the sketches, aligned (an int8 sketch may be any number of bytes). */
function scalesAt(capacity: number, sketchBytes: number): number {
  return align16(capacity * sketchBytes);
}

function align16(address: number): number {
  return (address + 15) & ~15;
}

/**
 * Whether `module`'s scan4 scores int4 sketches of 64 components (a head of 32 and a rest of 32) exactly as the plain
 * loop does, whole and by their heads, eight at a time (two fours), against a query of −127 … 127: the nibbles'
 * extremes (all 7, all −7) and mixed ones, both signs of the query at its extremes.
 */
export function scan4Agrees(module: WebAssembly.Module, memory: WebAssembly.Memory): boolean {
  const scan = new WebAssembly.Instance(module, { env: { memory } }).exports.scan4 as ScanKernel;
  const [heads, rests, scales, query, slots, out] = [0, 64, 128, 144, 272, 304];
  const bytes = new Uint8Array(memory.buffer);
  const sketchByte = (sketch: number, b: number) => (sketch === 0 ? 0x77 : sketch === 1 ? 0x99 : (b * 37 + sketch * 101) & 255);
  for (let s = 0; s < 4; s++) {
    for (let b = 0; b < 16; b++) {
      bytes[heads + 16 * s + b] = sketchByte(s, b);
      bytes[rests + 16 * s + b] = sketchByte(s, b + 16);
    }
  }
  const scaleOf = new Float32Array(memory.buffer, scales, 4);
  scaleOf.set([1, 0.5, -2, 0.125]);
  const q = new Int16Array(memory.buffer, query, 64);
  for (let j = 0; j < 64; j++) q[j] = j < 8 ? (j % 2 ? -127 : 127) : ((j * 53) % 255) - 127;
  const order = [0, 1, 2, 3, 3, 2, 0, 1];
  new Uint32Array(memory.buffer, slots, 8).set(order);
  const signed = new Int8Array(memory.buffer);
  for (const restDims of [32, 0]) {
    scan(heads, 16, 32, rests, 16, restDims, scales, query, slots, 8, out);
    const scores = new Float32Array(memory.buffer, out, 8);
    for (let i = 0; i < 8; i++) {
      const s = order[i]!;
      let dot = 0;
      for (let j = 0; j < 32 + restDims; j++) dot += q[j]! * nibble(signed[(j < 32 ? heads : rests) + 16 * s + int4Byte(j % 32)]!, j % 32);
      if (scores[i] !== Math.fround(Math.fround(dot) * scaleOf[s]!)) return false;
    }
  }
  return true;
}
