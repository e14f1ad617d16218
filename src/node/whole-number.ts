/** Whole-number options, read the same way by the CLI and the benchmarks; each reports a bad one in its own way. */

/** `text` as a whole number of at least `min`; undefined for anything else (blank, NaN, a fraction, too small). */
export function parseWholeNumber(text: string, min: number): number | undefined {
  const n = Number(text);
  // Number('') is 0, which a `min` of 0 would let through.
  return text.trim() !== '' && Number.isInteger(n) && n >= min ? n : undefined;
}
