import { describe, expect, it } from 'vitest';
import { originalsFirst } from '../../src/core/search/original-first.ts';

const result = (id: string, score: number, width?: number, height?: number) => ({ id, score, meta: { id, ...(width ? { width, height } : {}) } });

describe('originalsFirst', () => {
  it('puts the largest same-content result first, keeps the rest in score order', () => {
    const results = [result('self-1/4', 1, 125, 94), result('half', 0.8, 250, 188), result('original', 0.7, 500, 375), result('other', 0.6, 4000, 3000), result('other-2', 0.5)];
    expect(originalsFirst(results, 0.65).map((r) => r.id)).toEqual(['original', 'half', 'self-1/4', 'other', 'other-2']);
  });

  it('leaves results alone when none reach the score, and sizes unknown sort last among equals', () => {
    const results = [result('a', 0.6, 10, 10), result('b', 0.5, 100, 100)];
    expect(originalsFirst(results, 0.65)).toEqual(results);
    expect(originalsFirst([result('unknown', 0.9), result('known', 0.8, 10, 10)], 0.65).map((r) => r.id)).toEqual(['known', 'unknown']);
  });
});
