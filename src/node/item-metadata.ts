/**
 * `lookalike index --meta items.csv|items.jsonl`: extra fields for the items of
 * an index (title, url, price, …), keyed by each row's `id` or `file`.
 *
 * - CSV (RFC 4180): a header row names the fields; quoted fields may hold
 *   commas, doubled quotes and line breaks; every row has the header's number
 *   of fields. Values are kept as strings; empty cells are left out.
 * - JSONL: one JSON object per line; blank lines are skipped.
 *
 * Either way every row needs a non-empty `id` or `file` (a path relative to
 * the indexed folder, `/`-separated), and no key may appear twice.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { ItemMeta, JsonValue } from '../core/items.ts';

export type MetaRow = { readonly [field: string]: JsonValue };

/** The file cannot be used; `message` says where and why. */
export class MetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetadataError';
  }
}

export class ItemMetadata {
  private readonly byKey = new Map<string, number>();
  private readonly used = new Set<number>();

  constructor(readonly rows: readonly MetaRow[], readonly source = 'metadata') {
    rows.forEach((row, i) => {
      const keys = new Set([row.id, row.file].filter((k): k is string => typeof k === 'string' && k !== '').map(normaliseKey));
      if (keys.size === 0) throw new MetadataError(`${source}: row ${i + 1} has neither an "id" nor a "file".`);
      for (const key of keys) {
        const earlier = this.byKey.get(key);
        if (earlier !== undefined) throw new MetadataError(`${source}: rows ${earlier + 1} and ${i + 1} are both for "${key}".`);
        this.byKey.set(key, i);
      }
    });
  }

  /** The row for the item with this id (its `id` or `file` column matches), marked as used. */
  rowFor(id: string): MetaRow | undefined {
    const i = this.byKey.get(id);
    if (i === undefined) return undefined;
    this.used.add(i);
    return this.rows[i];
  }

  /** How each row is named in messages, for the rows that `rowFor` never returned. */
  unused(): string[] {
    return this.rows.flatMap((row, i) => (this.used.has(i) ? [] : [String(row.id ?? row.file)]));
  }
}

/** An item's metadata: the row's fields, then the item's own (which win). */
export function mergeMeta(own: ItemMeta, row: MetaRow | undefined): ItemMeta {
  return row ? { ...row, ...own } : own;
}

/** Reads a --meta file, choosing the format by its extension. */
export async function readItemMetadata(path: string): Promise<ItemMetadata> {
  const kind = extname(path).toLowerCase();
  if (kind !== '.csv' && kind !== '.jsonl' && kind !== '.ndjson') {
    throw new MetadataError(`${path}: --meta takes a .csv or .jsonl file.`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MetadataError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}.`);
  }
  text = text.replace(/^\uFEFF/, '');
  return new ItemMetadata(kind === '.csv' ? parseCsvRows(text, path) : parseJsonl(text, path), path);
}

export function parseJsonl(text: string, source = 'JSONL'): MetaRow[] {
  const rows: MetaRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new MetadataError(`${source}, line ${i + 1}: not valid JSON (${(err as Error).message}).`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MetadataError(`${source}, line ${i + 1}: expected a JSON object.`);
    rows.push(value as MetaRow);
  });
  return rows;
}

/** CSV with a header row into one object per record. */
export function parseCsvRows(text: string, source = 'CSV'): MetaRow[] {
  const [header, ...records] = parseCsv(text, source);
  if (!header) throw new MetadataError(`${source}: the file is empty; it needs a header row.`);
  const names = header.fields.map((name) => name.trim());
  names.forEach((name, i) => {
    if (name === '') throw new MetadataError(`${source}: column ${i + 1} of the header row has no name.`);
    if (names.indexOf(name) !== i) throw new MetadataError(`${source}: the header names the column "${name}" twice.`);
  });
  return records.map(({ fields, line }) => {
    if (fields.length !== names.length) {
      throw new MetadataError(`${source}, line ${line}: ${fields.length} field(s), but the header has ${names.length}.`);
    }
    const row: Record<string, JsonValue> = {};
    fields.forEach((value, i) => {
      if (value !== '') row[names[i]!] = value;
    });
    return row;
  });
}

/** RFC 4180 records with the line each starts on; a blank line is no record. */
export function parseCsv(text: string, source = 'CSV'): { fields: string[]; line: number }[] {
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let start = 1;
  let i = 0;
  /** Whether the record has a quoted field (so `""` alone is a record, not a blank line). */
  let quoted = false;
  const endRecord = () => {
    fields.push(field);
    if (quoted || fields.length > 1 || field !== '') records.push({ fields, line: start });
    fields = [];
    field = '';
    quoted = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' && field === '') {
      // A quoted field: runs to the next lone quote, which must end the field.
      const quoteLine = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new MetadataError(`${source}, line ${quoteLine}: a quoted field is never closed.`);
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new MetadataError(`${source}, line ${line}: unexpected text after a closing quote (write a quote inside a quoted field as "").`);
      }
      quoted = true;
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      endRecord();
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
      start = line;
    } else if (c === '"') {
      throw new MetadataError(`${source}, line ${line}: a quote inside an unquoted field (quote the whole field and double the quote).`);
    } else {
      field += c;
    }
    i++;
  }
  if (field !== '' || quoted || fields.length > 0) endRecord();
  return records;
}

/** `./a/b.jpg` and `a\b.jpg` name the item `a/b.jpg`. */
function normaliseKey(key: string): string {
  return key.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}
