/** What every IndexedDB writer here shares (the index's page store and the library's thumbnails): committing a transaction all or nothing. */
import { StorageFullError } from '../core/store/page-store.ts';

/**
 * Runs `queue` (which queues the transaction's requests; their failures arrive
 * with `tx.done`) and waits for the commit. Any failure, a synchronous throw
 * included, aborts the transaction, so it keeps nothing; a full disk becomes
 * StorageFullError.
 */
export async function commitAtomically(tx: { readonly done: Promise<void>; readonly error: DOMException | null; abort(): void }, queue: () => void): Promise<void> {
  const done = tx.done;
  try {
    queue();
    await done;
  } catch (err) {
    done.catch(() => {});
    try {
      tx.abort();
    } catch {
      // already aborted or finished
    }
    if (isQuotaError(err) || isQuotaError(tx.error)) throw new StorageFullError(err);
    throw err;
  }
}

function isQuotaError(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'QuotaExceededError';
}
