/** What the index keeps about each item besides its vectors: plain JSON, so every part can read it. */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * An item's metadata. `id` is the caller's unique key (a file's relative path in
 * the CLI); the named fields are the ones every client knows how to show, and any
 * other JSON field travels with the item untouched.
 */
export interface ItemMeta {
  readonly id: string;
  readonly file?: string;
  readonly title?: string;
  /** The item's page (a shop's product page). */
  readonly url?: string;
  /** Where the full image lives. */
  readonly image?: string;
  /** Pixel size of the image the item was embedded from, when known. */
  readonly width?: number;
  readonly height?: number;
  readonly [field: string]: JsonValue | undefined;
}
