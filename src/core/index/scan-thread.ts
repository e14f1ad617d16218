/**
 * A second thread for a large index's sketch scans: it scores chunks of each
 * large scan while the searching thread scores the others, in a sketch
 * array's memory that the two share (sketch-kernel.ts). Scanning 50 000
 * sketches of a million-item arena took 0.97–1.04 ms on one thread of this
 * 2-core host in Chromium; two threads scanning 25 000 each at once took
 * 0.34–0.49 ms each (scratch experiment).
 *
 * The two threads meet in `control`, a small shared Int32Array, not in
 * messages, which cost a trip through an event loop. A scan is cut into
 * chunks of CHUNK sketches, and each side claims the next one until none is
 * left, so that a thread that wakes late takes fewer chunks, and the scan
 * takes no longer: the searching thread waits at most for a chunk the other
 * has begun. Neither side spins: on this 2-core host, a thread spinning
 * after its part (0.3 or 5 ms) made searches that came 20 ms apart slower
 * than one thread (a million-item index preloaded in Chromium, scratch,
 * each query with and without the thread in turn: 2.41–2.70 ms against
 * 2.68–3.39 p50 for synthetic queries); waking it each scan instead, they
 * took 2.27–2.50 ms against 2.30–2.55, and back-to-back searches took
 * 1.65–1.82 against 1.49–1.65 ms, and real photos, which widen, 3.52–4.33
 * against 3.14–3.57 ms.
 *
 * The searching side (`ScanThread`) owns the protocol; the other runs
 * `serveScans` in a worker of the platform's kind (workers/scan.worker.ts in
 * the browser).
 * - `attach` posts the thread a sketch array's memory and its compiled scan
 *   kernel, and sets LATEST to the attachment's number and GO to its
 *   negative, which brings the thread back to its event loop for that
 *   message. The thread then sets ACKNOWLEDGED to the number (and goes back
 *   for the next message where LATEST is newer).
 * - `scan`, for the latest attachment where the thread has acknowledged it,
 *   writes the scan's arguments, sets NEXT to the scan's number (in its high
 *   bits) and chunk 0, and GO to the scan's number. Then both sides claim
 *   chunks from NEXT (a claim of another scan's number fails), score them,
 *   and count them in FINISHED; the searching side returns once all are.
 * - A chunk the thread fails to score (its kernel threw) is counted too, and
 *   FAILED set: the searching side scores the whole scan again itself, and
 *   stops using the thread; so it does where the thread has not finished a
 *   chunk it claimed within STALLED_MS (its worker died). Scan numbers wrap
 *   at SCAN_NUMBERS: a thread stalled that many scans between reading a
 *   scan's arguments and claiming a chunk could claim a later one's, which
 *   is not guarded against.
 *
 * Until the thread has acknowledged an array, or after it failed, the
 * searching thread scans alone: the second thread only ever takes work from
 * it. Waiting blocks (`Atomics.wait`), so a ScanThread is for workers and
 * Node, not a page's main thread.
 */

/** What the searching side holds of the thread: the platform's worker. */
export interface ScanThreadPort {
  postMessage(message: ScanAttachment): void;
  terminate(): void;
}

/** The message that hands the thread a sketch array (structured-cloneable: the memory is shared, the module compiled). */
export interface ScanAttachment {
  readonly control: SharedArrayBuffer;
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  readonly kernel: string;
  readonly attachment: number;
}

/** A scan kernel (sketch-scan.wat's scan4 and scan8): its slots' address, their count and the scores' address last. */
export type ScanKernel = (heads: number, headStride: number, headDims: number, rests: number, restStride: number, restDims: number,
  scales: number, query: number, slots: number, count: number, out: number) => void;

/** The control words. */
const GO = 0;
const NEXT = 1;
const FINISHED = 2;
const LATEST = 3;
const ACKNOWLEDGED = 4;
const FAILED = 5;
/** The scan's arguments from here on: the kernel's first 8, then its slots' address, their count and the scores' address. */
const ARGUMENTS = 6;
const SCAN_ARGUMENTS = 11;
/** NEXT holds the scan's number above its next chunk. */
const CHUNK_BITS = 16;
const SCAN_NUMBERS = 1 << (31 - CHUNK_BITS);
const CHUNKS_MAX = (1 << CHUNK_BITS) - 1;

/** Sketches a chunk: a multiple of 4 (scan4's step), 30–60 µs of work at the default sketch. */
export const CHUNK = 2048;
/** How long the searching side waits for a chunk the thread has claimed before it takes the thread for dead. */
const STALLED_MS = 2000;

export class ScanThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * (ARGUMENTS + SCAN_ARGUMENTS)));
  private attachments = 0;
  private scans = 0;
  /** Whether the thread failed a chunk (or stalled): it is not used again. */
  private gaveUp = false;
  /** Chunks the thread has scored. */
  chunks = 0;

  constructor(private readonly port: ScanThreadPort) {}

  /** Hands the thread a sketch array's shared memory and scan kernel (export `kernel` of `module`); returns the attachment's number, which `scan` takes. */
  attach(memory: WebAssembly.Memory, module: WebAssembly.Module, kernel: string): number {
    const attachment = ++this.attachments;
    // LATEST first: the thread may take the message at once, and must find it the latest.
    Atomics.store(this.control, LATEST, attachment);
    this.port.postMessage({ control: this.control.buffer as SharedArrayBuffer, memory, module, kernel, attachment });
    // (Each attachment its own value: a thread about to wait on GO's old value does not sleep through it.)
    Atomics.store(this.control, GO, -attachment);
    Atomics.notify(this.control, GO);
    return attachment;
  }

  /**
   * Scores `count` slots (a multiple of 4) from `slots` into `out` with `kernel` (`args`: its first 8 arguments), here
   * and, where it is ready with `attachment`, on the thread too; returns when every score is written.
   */
  scan(attachment: number, kernel: ScanKernel, args: readonly number[], slots: number, count: number, out: number): void {
    const control = this.control;
    const chunks = Math.ceil(count / CHUNK);
    if (this.gaveUp || attachment !== this.attachments || Atomics.load(control, ACKNOWLEDGED) !== attachment || chunks < 2 || chunks > CHUNKS_MAX) {
      run(kernel, args, slots, count, out);
      return;
    }
    const scan = (this.scans = (this.scans + 1) % SCAN_NUMBERS);
    // NEXT moves to this scan, with no chunk left, before its arguments are written: a thread late for an earlier scan
    // then fails its claim rather than scoring with these arguments (or a mix).
    Atomics.store(control, NEXT, (scan << CHUNK_BITS) | CHUNKS_MAX);
    for (let i = 0; i < 8; i++) control[ARGUMENTS + i] = args[i]!;
    control[ARGUMENTS + 8] = slots;
    control[ARGUMENTS + 9] = count;
    control[ARGUMENTS + 10] = out;
    Atomics.store(control, FINISHED, 0);
    Atomics.store(control, NEXT, scan << CHUNK_BITS);
    Atomics.store(control, GO, scan);
    Atomics.notify(control, GO);
    let mine = 0;
    for (let chunk = claim(control, scan, chunks); chunk >= 0; chunk = claim(control, scan, chunks)) {
      scoreChunk(kernel, args, slots, count, out, chunk);
      Atomics.add(control, FINISHED, 1);
      mine++;
    }
    // Every chunk is claimed: wait for the thread's last (FINISHED only grows). A thread that does not finish it within
    // STALLED_MS (its worker died) counts as failed.
    const until = performance.now() + STALLED_MS;
    let finished = Atomics.load(control, FINISHED);
    while (finished < chunks && performance.now() < until) {
      Atomics.wait(control, FINISHED, finished, STALLED_MS);
      finished = Atomics.load(control, FINISHED);
    }
    if (finished === chunks && Atomics.load(control, FAILED) === 0) {
      this.chunks += chunks - mine;
      return;
    }
    this.gaveUp = true;
    run(kernel, args, slots, count, out);
  }

  /** Whether the thread failed a chunk or stalled, and scans are left to the searching side from then on. */
  get failed(): boolean {
    return this.gaveUp;
  }

  close(): void {
    this.port.terminate();
  }
}

/** Claims scan `scan`'s next chunk; −1 where none is left (or NEXT has moved on to another scan). */
function claim(control: Int32Array, scan: number, chunks: number): number {
  for (;;) {
    const next = Atomics.load(control, NEXT);
    const chunk = next & CHUNKS_MAX;
    if (next >>> CHUNK_BITS !== scan || chunk >= chunks) return -1;
    if (Atomics.compareExchange(control, NEXT, next, next + 1) === next) return chunk;
  }
}

function scoreChunk(kernel: ScanKernel, args: readonly number[], slots: number, count: number, out: number, chunk: number): void {
  const from = chunk * CHUNK;
  run(kernel, args, slots + 4 * from, Math.min(CHUNK, count - from), out + 4 * from);
}

/** `kernel` on its first 8 arguments, `args`, and the slots, their count and the scores' address. */
function run(kernel: ScanKernel, args: readonly number[], slots: number, count: number, out: number): void {
  kernel(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, args[6]!, args[7]!, slots, count, out);
}

/**
 * The thread's side: instantiates the attached kernel on the shared memory and takes chunks of each scan it is woken
 * for, until the next attachment, when it returns (its worker passes each message here).
 */
export function serveScans({ control: buffer, memory, module, kernel: name, attachment }: ScanAttachment): void {
  const control = new Int32Array(buffer);
  let kernel: ScanKernel | null = null;
  try {
    kernel = new WebAssembly.Instance(module, { env: { memory } }).exports[name] as ScanKernel;
  } catch {
    // (Left null: every chunk it takes fails, and the searching side scans alone from then on.)
  }
  // GO as it was before the acknowledgement, so that no scan begun after it is missed.
  let served = Atomics.load(control, GO);
  Atomics.store(control, ACKNOWLEDGED, attachment);
  const args = new Array<number>(8);
  for (;;) {
    // A newer attachment is on its way (its message next in the queue).
    if (Atomics.load(control, LATEST) !== attachment) return;
    const go = Atomics.load(control, GO);
    if (go === served) {
      Atomics.wait(control, GO, go);
      continue;
    }
    served = go;
    if (go < 0) continue; // an attachment: the check above

    // The arguments, then the claims: a claim succeeds only while NEXT holds this scan's number, and the searching side
    // writes another scan's arguments only once all of this one's chunks are claimed and finished.
    for (let i = 0; i < 8; i++) args[i] = control[ARGUMENTS + i]!;
    const [slots, count, out] = [control[ARGUMENTS + 8]!, control[ARGUMENTS + 9]!, control[ARGUMENTS + 10]!];
    const chunks = Math.ceil(count / CHUNK);
    for (let chunk = claim(control, go, chunks); chunk >= 0; chunk = claim(control, go, chunks)) {
      try {
        if (!kernel) throw new Error('No kernel.');
        scoreChunk(kernel, args, slots, count, out, chunk);
      } catch {
        Atomics.store(control, FAILED, 1);
      }
      Atomics.add(control, FINISHED, 1);
      Atomics.notify(control, FINISHED);
    }
  }
}
