/**
 * A second thread for a large index's sketch scans: it scores one part of
 * each large scan while the searching thread scores the other, in a sketch
 * array's memory that the two share (sketch-kernel.ts). Scanning 50 000
 * sketches of a million-item arena took 0.97–1.04 ms on one thread of this
 * 2-core host in Chromium; two threads scanning 25 000 each at once took
 * 0.34–0.49 ms each (scratch experiment).
 *
 * The two threads meet in `control`, a small shared Int32Array, not in
 * messages, which cost a trip through an event loop: each side spins on
 * STATE for SPIN_MS before it sleeps in a wait. The searching side
 * (`ScanThread`) owns the protocol; the other runs `serveScans` in a worker
 * of the platform's kind (workers/scan.worker.ts in the browser).
 *
 * - `attach` posts the thread a sketch array's memory and its compiled scan
 *   kernel, sets LATEST to the attachment's number and STATE to ATTACHING,
 *   which brings the thread out of its loop and back to its event loop for
 *   that message. The thread then sets STATE to READY and ACKNOWLEDGED to
 *   the number (and goes back for the next message where LATEST is newer).
 * - `start`, where the thread is READY with the latest attachment (the
 *   array's), writes the kernel's arguments and sets STATE to GO. The thread
 *   scans and sets DONE (and FAILED where its kernel threw).
 * - `finish` waits for DONE and sets READY. A failed part is scored again by
 *   the searching thread, which then stops using the other.
 *
 * Until the thread has acknowledged an array, or after it failed, the
 * searching thread scans alone: the second thread only ever speeds a scan
 * up. Waiting blocks (`Atomics.wait`), so a ScanThread is for workers and
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

/** The control words. */
const STATE = 0;
const LATEST = 1;
const ACKNOWLEDGED = 2;
const FAILED = 3;
/** The kernel's arguments (sketch-kernel.ts's ScanFunction) from here on. */
const ARGUMENTS = 4;
const KERNEL_ARGUMENTS = 11;

/** STATE's values. */
const ATTACHING = 0;
const READY = 1;
const GO = 2;
const DONE = 3;
/**
 * How long each side checks STATE before it sleeps in a wait. The searching side's part ends about when the thread's
 * does; a search's scans come a few milliseconds apart, and a query right after another finds the thread awake. Woken
 * from a wait instead, a part started late: with sleeping sides, a million-item search's scans were no quicker with
 * the thread than without it (scratch, Chromium).
 */
const SPIN_MS = 5;

export class ScanThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * (ARGUMENTS + KERNEL_ARGUMENTS)));
  private attachments = 0;
  /** Whether a part failed: the thread is not used again. */
  private failed = false;
  /** Parts the thread has scored. */
  parts = 0;

  constructor(private readonly port: ScanThreadPort) {}

  /** Hands the thread a sketch array's shared memory and scan kernel (export `kernel` of `module`); returns the attachment's number, which `start` takes. */
  attach(memory: WebAssembly.Memory, module: WebAssembly.Module, kernel: string): number {
    const attachment = ++this.attachments;
    this.port.postMessage({ control: this.control.buffer as SharedArrayBuffer, memory, module, kernel, attachment });
    Atomics.store(this.control, LATEST, attachment);
    Atomics.store(this.control, STATE, ATTACHING);
    Atomics.notify(this.control, STATE);
    return attachment;
  }

  /** Starts the thread's kernel on `args`, where it is ready with `attachment`, the latest; false (nothing started) otherwise. */
  start(attachment: number, args: readonly number[]): boolean {
    const control = this.control;
    if (this.failed || attachment !== this.attachments || Atomics.load(control, STATE) !== READY || Atomics.load(control, ACKNOWLEDGED) !== attachment) return false;
    for (let i = 0; i < KERNEL_ARGUMENTS; i++) control[ARGUMENTS + i] = args[i]!;
    Atomics.store(control, STATE, GO);
    Atomics.notify(control, STATE);
    return true;
  }

  /** Waits for the part `start` began; returns whether it was scored (false: the caller scores it). */
  finish(): boolean {
    const control = this.control;
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(control, STATE) === GO && performance.now() < until);
    while (Atomics.load(control, STATE) === GO) Atomics.wait(control, STATE, GO);
    const failed = Atomics.load(control, FAILED) !== 0;
    Atomics.store(control, STATE, READY);
    this.failed ||= failed;
    if (!failed) this.parts++;
    return !failed;
  }

  close(): void {
    this.port.terminate();
  }
}

type Kernel = (...args: number[]) => void;

/**
 * The thread's side: instantiates the attached kernel on the shared memory and scans each part it is given, until
 * the next attachment, when it returns (its worker passes each message here).
 */
export function serveScans({ control: buffer, memory, module, kernel: name, attachment }: ScanAttachment): void {
  const control = new Int32Array(buffer);
  let kernel: Kernel | null = null;
  try {
    kernel = new WebAssembly.Instance(module, { env: { memory } }).exports[name] as Kernel;
  } catch {
    // (Left null: every part it is given fails, and the searching side scans alone.)
  }
  // READY before the acknowledgement: once a part may start (the latter), nothing here writes STATE but DONE.
  Atomics.store(control, STATE, READY);
  Atomics.store(control, ACKNOWLEDGED, attachment);
  const args = new Array<number>(KERNEL_ARGUMENTS);
  for (;;) {
    // A newer attachment is on its way (its message next in the queue): its STATE is ATTACHING, or READY as set above,
    // and with this one's ACKNOWLEDGED no part starts.
    if (Atomics.load(control, LATEST) !== attachment) return;
    let state = Atomics.load(control, STATE);
    const until = performance.now() + SPIN_MS;
    while (state !== GO && performance.now() < until) state = Atomics.load(control, STATE);
    if (state !== GO) {
      Atomics.wait(control, STATE, state);
      continue;
    }
    for (let i = 0; i < KERNEL_ARGUMENTS; i++) args[i] = control[ARGUMENTS + i]!;
    try {
      if (!kernel) throw new Error('No kernel.');
      kernel(...args);
    } catch {
      Atomics.store(control, FAILED, 1);
    }
    Atomics.store(control, STATE, DONE);
    Atomics.notify(control, STATE);
  }
}
