import { describe, expect, it } from 'vitest';
import { duplicateGroups } from '../../src/app/duplicates/groups.ts';

const items = [
  { width: 100, height: 100 },
  { width: 400, height: 300 },
  { width: 50, height: 50 },
  { width: 800, height: 600 },
  { width: 10, height: 10 },
];

describe('duplicateGroups', () => {
  it('links pairs at or above the threshold transitively, largest image first', () => {
    const pairs = [[0, 1, 0.95], [1, 2, 0.91], [3, 4, 0.97], [0, 3, 0.5]] as const;
    expect(duplicateGroups(items, pairs, 0.9)).toEqual([[1, 0, 2], [3, 4]]);
    expect(duplicateGroups(items, pairs, 0.93)).toEqual([[1, 0], [3, 4]]); // equal sizes: by their first item;
    expect(duplicateGroups(items, pairs, 0.99)).toEqual([]);
  });
});
