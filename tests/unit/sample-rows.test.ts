import { describe, expect, it } from 'vitest';
import { sampleRow } from '../../src/core/index/sample-rows.ts';

describe('sampleRow', () => {
  it.each([
    [1000, 1000, 1000],
    [1000, 1000, 300],
    [1000, 300, 300],
    [1000, 300, 100],
    [40_000, 32_768, 10_000],
    [7, 5, 2],
  ])('of %i items takes %i evenly, %i of them evenly first, each in a row of its own', (total, rows, leading) => {
    const placed = Array.from({ length: total }, (_, i) => sampleRow(i, total, rows, leading));
    const sampled = placed.flatMap((row, i) => (row >= 0 ? [i] : []));
    // Items ⌈t · total / rows⌉, in order, each to one of rows 0 … rows − 1.
    expect(sampled).toEqual(Array.from({ length: rows }, (_, t) => Math.ceil((t * total) / rows)));
    expect(new Set(placed.filter((row) => row >= 0))).toEqual(new Set(Array.from({ length: rows }, (_, row) => row)));
    // Rows 0 … leading − 1 hold places ⌈j · rows / leading⌉ of the sample, in order; the rest keep their order after them.
    const placeOfRow = new Array<number>(rows);
    sampled.forEach((i, t) => (placeOfRow[placed[i]!] = t));
    expect(placeOfRow.slice(0, leading)).toEqual(Array.from({ length: leading }, (_, j) => Math.ceil((j * rows) / leading)));
    const rest = placeOfRow.slice(leading);
    expect(rest).toEqual([...rest].sort((a, b) => a - b));
  });
});
