/**
 * Where a retrain puts each item in its training sample: `rows` items evenly
 * spread over the `total` live ones, of which `leading` (again evenly spread
 * among them) come first, as one block (the coder's rows; the partition trains
 * on them all).
 *
 * Item i is sampled where i · rows / total reaches a new whole number t, its
 * place in the sample: items ⌈t · total / rows⌉ for t = 0 … rows − 1. Place t
 * leads where t · leading / rows does: places ⌈j · rows / leading⌉.
 */

/** The row of live item `i` (0 … total − 1, in slot order), or −1 when it is not sampled. */
export function sampleRow(i: number, total: number, rows: number, leading: number): number {
  const t = Math.floor((i * rows) / total);
  if (i > 0 && t === Math.floor(((i - 1) * rows) / total)) return -1;
  const leadingUpTo = Math.floor((t * leading) / rows); // leading places before t, and t itself if it leads
  const leads = t === 0 || leadingUpTo !== Math.floor(((t - 1) * leading) / rows);
  return leads ? leadingUpTo : leading + t - leadingUpTo - 1;
}
