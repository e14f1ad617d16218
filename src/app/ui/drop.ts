/**
 * Pictures dropped anywhere on the page (files and whole folders) or pasted:
 * handed to the current view's handler, with an overlay saying what a drop will do.
 */
import { byId } from './dom.ts';
import { describeError, notify } from './notices.ts';

export interface DropTarget {
  /** What the overlay says, e.g. "Drop to search". */
  readonly label: () => string;
  readonly accept: (files: File[]) => void;
}

export function setUpDropAndPaste(target: DropTarget): void {
  const overlay = byId('drop-overlay');
  let depth = 0;
  const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
  window.addEventListener('dragenter', (event) => {
    if (!hasFiles(event)) return;
    depth++;
    byId('drop-overlay-text').textContent = target.label();
    overlay.hidden = false;
  });
  window.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; overlay.hidden = true; } });
  window.addEventListener('dragover', (event) => { if (hasFiles(event)) event.preventDefault(); });
  window.addEventListener('drop', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    filesOf(event.dataTransfer!).then(
      (files) => { if (files.length) target.accept(files); },
      (err: unknown) => notify(`Lookalike could not read what was dropped (a file may have been moved, or the folder is not readable). Choose the files with a button on the page instead. (${describeError(err)})`, 'error'),
    );
  });
  window.addEventListener('paste', (event) => {
    // Pasting into a text field is typing, not a search.
    if ((event.target as Element | null)?.closest?.('input, textarea')) return;
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length) {
      event.preventDefault();
      target.accept(files);
    }
  });
}

/** The files of a drop, folders walked recursively (entries must be taken synchronously, before any await). */
async function filesOf(data: DataTransfer): Promise<File[]> {
  const entries = [...data.items].map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return [...data.files];
  const files: File[] = [];
  for (const entry of entries) await walk(entry, files);
  return files;
}

async function walk(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (entry.isFile) {
    out.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries answers in pages (100 at a time in Chromium) until it returns none.
  for (;;) {
    const page = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (page.length === 0) return;
    for (const child of page) await walk(child, out);
  }
}
