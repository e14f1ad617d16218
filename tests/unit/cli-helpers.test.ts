/** The CLI's helpers: --meta parsing, whole-number options, the progress bar, reading images from files and URLs. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ItemMetadata, MetadataError, mergeMeta, parseCsv, parseCsvRows, parseJsonl, readItemMetadata } from '../../src/node/item-metadata.ts';
import { readImage } from '../../src/node/image-source.ts';
import { formatDuration, Progress } from '../../src/node/progress.ts';
import { parseWholeNumber } from '../../src/node/whole-number.ts';

describe('CSV (RFC 4180)', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF or LF, and skips blank lines', () => {
    const text = 'id,title,notes\r\na.jpg,"Hello, world","He said ""hi"""\r\n\r\nb.jpg,"two\nlines",\nc.jpg,"",x';
    expect(parseCsv(text).map((r) => r.line)).toEqual([1, 2, 4, 6]);
    expect(parseCsvRows(text)).toEqual([
      { id: 'a.jpg', title: 'Hello, world', notes: 'He said "hi"' },
      { id: 'b.jpg', title: 'two\nlines' },
      { id: 'c.jpg', notes: 'x' },
    ]);
  });

  it('rejects malformed files with the line', () => {
    expect(() => parseCsvRows('id,title\na.jpg,"open\n', 'm.csv')).toThrow('m.csv, line 2: a quoted field is never closed.');
    expect(() => parseCsvRows('id,title\na.jpg,b,c\n', 'm.csv')).toThrow('m.csv, line 2: 3 field(s), but the header has 2.');
    expect(() => parseCsvRows('id,title\na.jpg,x"y\n')).toThrow(/line 2: a quote inside an unquoted field/);
    expect(() => parseCsvRows('id,title\na.jpg,"x"y\n')).toThrow(/line 2: unexpected text after a closing quote/);
    expect(() => parseCsvRows('id,id\n')).toThrow('the header names the column "id" twice');
    expect(() => parseCsvRows('')).toThrow('needs a header row');
  });
});

describe('--meta files', () => {
  it('reads JSONL objects and rejects other lines', () => {
    expect(parseJsonl('{"id":"a.jpg","price":3.5}\n\n{"file":"b.jpg","tags":["x"]}\n')).toEqual([{ id: 'a.jpg', price: 3.5 }, { file: 'b.jpg', tags: ['x'] }]);
    expect(() => parseJsonl('{"id":"a"}\n[1]\n', 'm.jsonl')).toThrow('m.jsonl, line 2: expected a JSON object.');
    expect(() => parseJsonl('{"id":\n', 'm.jsonl')).toThrow(/^m\.jsonl, line 1: not valid JSON/);
  });

  it('matches rows by id or file, reports the unused ones, and refuses rows for the same item', () => {
    const meta = new ItemMetadata([{ id: 'a.jpg', title: 'A' }, { file: './sub/b.jpg', title: 'B' }, { id: 'ghost.jpg' }]);
    expect(meta.rowFor('a.jpg')).toEqual({ id: 'a.jpg', title: 'A' });
    expect(meta.rowFor('sub/b.jpg')?.title).toBe('B');
    expect(meta.rowFor('c.jpg')).toBeUndefined();
    expect(meta.unused()).toEqual(['ghost.jpg']);
    expect(() => new ItemMetadata([{ id: 'a.jpg' }, { file: 'a.jpg' }], 'm.csv')).toThrow('m.csv: rows 1 and 2 are both for "a.jpg".');
    expect(() => new ItemMetadata([{ title: 'x' }], 'm.csv')).toThrow('m.csv: row 1 has neither an "id" nor a "file".');
    // The image's own fields win over the row's.
    expect(mergeMeta({ id: 'a.jpg', file: 'a.jpg', width: 5 }, { id: 'a.jpg', width: 'wide', title: 'A' })).toEqual({ id: 'a.jpg', file: 'a.jpg', width: 5, title: 'A' });
  });

  it('chooses the format by extension and explains unreadable files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meta-'));
    writeFileSync(join(dir, 'm.csv'), '\uFEFFid,title\na.jpg,A\n');
    expect((await readItemMetadata(join(dir, 'm.csv'))).rows).toEqual([{ id: 'a.jpg', title: 'A' }]);
    await expect(readItemMetadata(join(dir, 'm.json'))).rejects.toThrow('--meta takes a .csv or .jsonl file.');
    await expect(readItemMetadata(join(dir, 'missing.jsonl'))).rejects.toBeInstanceOf(MetadataError);
  });
});

describe('parseWholeNumber', () => {
  it('takes whole numbers from the minimum up, and nothing else', () => {
    expect(parseWholeNumber('16', 1)).toBe(16);
    expect(parseWholeNumber('0', 0)).toBe(0);
    for (const text of ['0', '-3', '2.5', 'abc', '']) expect(parseWholeNumber(text, 1), text).toBeUndefined();
    expect(parseWholeNumber(' ', 0)).toBeUndefined();
  });
});

describe('Progress', () => {
  const fakeStream = (tty: boolean) => {
    const out: string[] = [];
    return { out, stream: { isTTY: tty, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream };
  };

  it('prints a line per tenth when not on a terminal, counting resumed work in done but not in the rate', () => {
    const { out, stream } = fakeStream(false);
    let t = 0;
    const progress = new Progress(100, { label: 'Indexing', done: 20, stream, now: () => t });
    t = 1000;
    progress.advance(5); // 25%: still the third tenth
    expect(out).toEqual([]);
    t = 2000;
    progress.advance(10); // 35%
    expect(out).toEqual(['Indexing 35/100 (35%), 7.5 img/s, ETA 0:09\n']);
    progress.log('a.jpg: error: bad');
    progress.advance(65);
    expect(out.slice(1)).toEqual(['a.jpg: error: bad\n', 'Indexing 100/100 (100%), 40.0 img/s\n']);
  });

  it('redraws one line on a terminal, at most every 100 ms, and keeps it below logged lines', () => {
    const { out, stream } = fakeStream(true);
    let t = 0;
    const progress = new Progress(10, { label: 'Indexing', stream, now: () => t });
    t = 500;
    progress.advance(1);
    t = 550;
    progress.advance(1); // too soon to redraw
    expect(out).toEqual([`\r\x1b[KIndexing [##${'-'.repeat(22)}] 1/10 (10%), 2.0 img/s, ETA 0:05`]);
    progress.log('oops');
    expect(out[1]).toMatch(/^\r\x1b\[Koops\nIndexing \[#####-+\] 2\/10 /);
    progress.advance(8); // the last one always draws
    progress.finish();
    expect(out.at(-2)).toContain('10/10 (100%)');
    expect(out.at(-1)).toBe('\n');
  });

  it('formats durations', () => {
    expect([0, 59.4, 61, 3600, 3725].map(formatDuration)).toEqual(['0:00', '0:59', '1:01', '1:00:00', '1:02:05']);
  });
});

describe('readImage', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') res.end(Buffer.alloc(1000, 7));
      else if (req.url === '/big') res.writeHead(200, { 'content-length': String(5000) }).end(Buffer.alloc(5000));
      else if (req.url === '/chunked') {
        res.write(Buffer.alloc(1500));
        res.end(Buffer.alloc(1500));
      } else if (req.url === '/slow') setTimeout(() => res.end('late'), 2000);
      else res.writeHead(404, 'Not Found').end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('fetches http URLs, with clear errors for status, size and time', async () => {
    expect(await readImage(`${base}/ok`)).toEqual(new Uint8Array(1000).fill(7));
    await expect(readImage(`${base}/nothing`)).rejects.toThrow('The server answered HTTP 404 Not Found.');
    await expect(readImage(`${base}/big`, { maxBytes: 2000 })).rejects.toThrow('The file is 0.005 MB, over the 0.002 MB limit for an image.');
    await expect(readImage(`${base}/chunked`, { maxBytes: 2000 })).rejects.toThrow(/The file is at least .* MB, over the/);
    await expect(readImage(`${base}/slow`, { timeoutMs: 200 })).rejects.toThrow('Timed out after 0.2 s fetching the image.');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(readImage(`http://127.0.0.1:${port}/x`)).rejects.toThrow(/^Could not fetch the image: ECONNREFUSED\.$/);
  });

  it('reads files up to the size limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'image-source-'));
    writeFileSync(join(dir, 'a.bin'), Buffer.alloc(3000, 1));
    expect((await readImage(join(dir, 'a.bin'))).length).toBe(3000);
    await expect(readImage(join(dir, 'a.bin'), { maxBytes: 1000 })).rejects.toThrow(/over the 0\.001 MB limit/);
    await expect(readImage(join(dir, 'nope.jpg'))).rejects.toThrow('No such file or directory.');
    await expect(readImage(dir)).rejects.toThrow('Is a directory.');
  });
});
