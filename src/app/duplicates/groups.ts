/** Near-duplicate groups from similar pairs: union-find over the pairs at or above a threshold, largest image first. */

export interface Sized {
  readonly width: number;
  readonly height: number;
}

/**
 * Groups of two or more item indexes linked (directly or through others) by
 * pairs scoring at least `threshold`. Each group is ordered by pixel count,
 * largest first (the likely original); groups are ordered by size, then by
 * their first item.
 */
export function duplicateGroups(items: readonly Sized[], pairs: readonly (readonly [number, number, number])[], threshold: number): number[][] {
  const parent = Array.from(items, (_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (const [a, b, score] of pairs) if (score >= threshold) parent[root(a)] = root(b);
  const groups = new Map<number, number[]>();
  items.forEach((_, i) => {
    const r = root(i);
    groups.set(r, [...(groups.get(r) ?? []), i]);
  });
  const pixels = (i: number) => items[i]!.width * items[i]!.height;
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort((a, b) => pixels(b) - pixels(a) || a - b))
    .sort((a, b) => b.length - a.length || Math.min(...a) - Math.min(...b));
}
