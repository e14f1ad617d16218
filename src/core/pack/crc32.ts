/**
 * CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final
 * XOR 0xFFFFFFFF), the checksum of zlib, PNG and ZIP. Slicing-by-8: eight bytes
 * per step through eight 256-entry tables, which keeps a gigabyte pack to about
 * a second of checksumming.
 */

const TABLES = makeTables();
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function makeTables(): Int32Array {
  const tables = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n]!;
    for (let t = 1; t < 8; t++) {
      c = tables[c & 0xff]! ^ (c >>> 8);
      tables[t * 256 + n] = c;
    }
  }
  return tables;
}

/**
 * The CRC-32 of `bytes`; pass the result of a previous call as `previous` to
 * continue over data that arrives in pieces: `crc32(b, crc32(a))` equals the
 * CRC-32 of `a` followed by `b`. Returns an unsigned 32-bit integer.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const t = TABLES;
  const n = bytes.length;
  let crc = ~previous;
  let i = 0;
  if (LITTLE_ENDIAN) {
    // Whole aligned words straight from memory: about a third faster than assembling them from bytes.
    while (i < n && ((bytes.byteOffset + i) & 3) !== 0) crc = t[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8);
    const pairs = (n - i) >>> 3;
    if (pairs > 0) {
      const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, pairs * 2);
      for (let j = 0; j < w.length; j += 2) crc = step(t, crc ^ w[j]!, w[j + 1]!);
      i += pairs * 8;
    }
  } else {
    for (const end = n - ((n - i) & 7); i < end; i += 8) {
      const a = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
      const b = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
      crc = step(t, crc ^ a, b);
    }
  }
  while (i < n) crc = t[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** Eight bytes at once: `a` is the first four (already XORed with the running CRC), `b` the next four. */
function step(t: Int32Array, a: number, b: number): number {
  return (
    t[1792 + (a & 0xff)]! ^
    t[1536 + ((a >>> 8) & 0xff)]! ^
    t[1280 + ((a >>> 16) & 0xff)]! ^
    t[1024 + (a >>> 24)]! ^
    t[768 + (b & 0xff)]! ^
    t[512 + ((b >>> 8) & 0xff)]! ^
    t[256 + ((b >>> 16) & 0xff)]! ^
    t[b >>> 24]!
  );
}
