/**
 * Adding pictures to the library: files are hashed and checked in the library
 * worker, new ones embedded by the embedding pool, then stored a chunk at a
 * time (one atomic commit each), so a killed tab keeps every finished chunk and
 * adding the same files again picks up where it stopped.
 */
import type { NewImage } from '../../browser/library.ts';
import { embedder, library, ready } from '../engine.ts';
import { byId, formatSeconds, plural } from '../ui/dom.ts';
import { describeError, notify } from '../ui/notices.ts';
import { appendItems, exclusively } from './library-state.ts';

/** Files per commit: small enough that a kill loses little, large enough to keep every embedding worker busy. */
const CHUNK = 16;
const BATCH = 2;

/** Cancels the add under way. */
let cancel: AbortController | null = null;

export function setUpAdding(): void {
  for (const id of ['add-input', 'add-folder-input']) {
    const input = byId<HTMLInputElement>(id);
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      input.value = ''; // choosing the same files again must fire `change`
      if (files.length) void addImages(files);
    });
  }
  byId('add-cancel').addEventListener('click', () => cancel?.abort());
}

export function addImages(files: readonly File[]): Promise<void> {
  return exclusively('adding', () => addFiles(files));
}

async function addFiles(files: readonly File[]): Promise<void> {
  // Ask the browser not to evict the library under storage pressure (granted silently or not at all).
  void navigator.storage?.persist?.().catch(() => {});
  const controller = new AbortController();
  cancel = controller;
  const progress = new Progress(files.length);
  let added = 0;
  let present = 0;
  const skipped: string[] = [];
  let failure: unknown = null;
  // The next chunk embeds while the previous one is being stored.
  let storing: Promise<void> = Promise.resolve();
  // Ids of this call's earlier chunks, which may not be stored yet when a later chunk is checked.
  const queued = new Set<string>();
  try {
    await ready();
    for (let start = 0; start < files.length; start += CHUNK) {
      const chunk = files.slice(start, start + CHUNK);
      const triage = await library.triage(chunk);
      const fresh: { file: File; id: string }[] = [];
      triage.forEach((t, i) => {
        if (t.status === 'new' && !queued.has(t.id)) fresh.push({ file: chunk[i]!, id: t.id });
        else if (t.status !== 'invalid') present++;
        else skipped.push(`${chunk[i]!.name}: ${notAnImage(t.error)}`);
      });
      for (const { id } of fresh) queued.add(id);
      progress.skip(chunk.length - fresh.length);
      const outcomes = await embedder.embedMany(fresh.map((f) => f.file), {
        batchSize: BATCH,
        signal: controller.signal,
        onProgress: (done) => progress.embedded(done),
      });
      progress.chunkDone(fresh.length);
      const images: NewImage[] = [];
      outcomes.forEach((o, i) => {
        const { file, id } = fresh[i]!;
        if (o.ok) images.push({ id, file: file.webkitRelativePath || file.name, image: file, embedding: o.embedding });
        else skipped.push(`${file.name}: ${notAnImage(o.error)}`);
      });
      await storing;
      controller.signal.throwIfAborted();
      storing = library.add(images).then((outcome) => {
        added += outcome.added.length;
        skipped.push(...outcome.failed.map((f) => `${f.file}: ${f.error}`));
        appendItems(outcome.added);
      });
      storing.catch(() => {}); // awaited before the next chunk is stored; not unhandled meanwhile
    }
    await storing;
  } catch (err) {
    failure = err;
    await storing.catch(() => {}); // a chunk already embedded is still stored, and counted
  } finally {
    cancel = null;
    progress.end();
  }
  report(added, present, skipped, failure);
}

function notAnImage(reason: string): string {
  return `skipped, not a picture this app can read (JPEG, PNG, GIF or WebP). ${reason}`;
}

function report(added: number, present: number, skipped: readonly string[], failure: unknown): void {
  const parts = [`Added ${plural(added, 'image')}`];
  if (present) parts.push(`${present} already in the library`);
  if (skipped.length) parts.push(`${skipped.length} skipped`);
  const summary = `${parts.join(', ')}.`;
  if (failure && (failure as Error).name === 'AbortError') notify(`Adding cancelled. ${summary} Add the same files again to continue; images already added are skipped.`, 'info', skipped);
  else if (failure) notify(`${describeError(failure)} ${summary}`, 'error', skipped);
  else notify(summary, skipped.length ? 'error' : 'info', skipped);
}

/** The progress bar: done/total, images per second and time left, counted on embedded images only. */
class Progress {
  private readonly started = performance.now();
  private settled = 0;
  private embeddedTotal = 0;
  private readonly box = byId('add-progress');
  private readonly bar = byId('add-progressbar');
  private readonly text = byId('add-progress-text');

  constructor(private readonly total: number) {
    this.bar.setAttribute('aria-valuemax', String(total));
    this.box.hidden = false;
    this.render(0);
  }

  /** Files settled without embedding (already present, or not images). */
  skip(count: number): void {
    this.settled += count;
    this.render(0);
  }

  /** Images of the current chunk embedded so far. */
  embedded(doneInChunk: number): void {
    this.render(doneInChunk);
  }

  chunkDone(count: number): void {
    this.settled += count;
    this.embeddedTotal += count;
    this.render(0);
  }

  end(): void {
    this.box.hidden = true;
  }

  private render(inFlight: number): void {
    const done = this.settled + inFlight;
    const embedded = this.embeddedTotal + inFlight;
    const seconds = (performance.now() - this.started) / 1000;
    const rate = embedded / Math.max(seconds, 0.001);
    this.bar.setAttribute('aria-valuenow', String(done));
    this.bar.setAttribute('aria-valuetext', `${done} of ${this.total}`);
    this.bar.style.setProperty('--done', String(done / Math.max(this.total, 1)));
    const speed = embedded ? ` · ${rate.toFixed(1)} images/s · about ${formatSeconds((this.total - done) / rate)} left` : '';
    this.text.textContent = `Adding ${done} of ${this.total}${speed}`;
  }
}
