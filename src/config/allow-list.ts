import type { ValueRange } from './types.js';

/**
 * An allow-list of community ranges as an index: checking every entry blocked the event loop on large lists, this
 * answers in O(log^d n) per value. A segment tree over the first part, each node holding an index over the remaining
 * parts (docs/design.md § The community allow-list index).
 */
/**
 * The most box fragments (a box stored in one node of one level) an index may hold: about 30 MiB. Entries whose ranges
 * all differ and overlap in three parts need O(n log^2 n) of them (10,000 random ones: over 2 million, 120 MiB); a list
 * an operator writes (one AS, value ranges) needs about one per entry. Past the bound the build stops (IndexTooLarge).
 */
export const MAX_INDEX_FRAGMENTS = 500_000;

export class IndexTooLarge extends Error {}

export class RangeIndex {
  private readonly root: Level | undefined;

  constructor(boxes: readonly (readonly ValueRange[])[], maxFragments = MAX_INDEX_FRAGMENTS) {
    const dims = boxes[0]?.length ?? 0;
    if (boxes.some((b) => b.length !== dims)) throw new Error('RangeIndex: every box needs the same number of parts');
    this.root = boxes.length === 0 ? undefined : buildLevel(boxes, { left: maxFragments });
  }

  has(point: readonly number[]): boolean {
    return this.root !== undefined && queryLevel(this.root, point, 0);
  }
}

/** One dimension: the last one is a list of disjoint intervals, the others a segment tree of sub-indexes. */
type Level = { kind: 'intervals'; starts: number[]; ends: number[] } | { kind: 'tree'; bounds: number[]; size: number; nodes: Map<number, Level> };

function buildLevel(boxes: readonly (readonly ValueRange[])[], budget: { left: number }): Level {
  budget.left -= boxes.length;
  if (budget.left < 0) throw new IndexTooLarge('allow-list index too large');
  const sample = boxes[0];
  if (sample === undefined) throw new Error('RangeIndex: a level built from no boxes (the constructor and insert pass only non-empty lists)');
  if (sample.length === 1) return mergedIntervals(boxes.map(firstPart));
  // Elementary intervals of the first part: [bounds[i], bounds[i+1]) over the sorted distinct starts and ends + 1.
  const bounds = [
    ...new Set(
      boxes.flatMap((b) => {
        const first = firstPart(b);
        return [first.min, first.max + 1];
      }),
    ),
  ].sort((a, b) => a - b);
  const leaves = bounds.length - 1;
  const size = 1 << Math.ceil(Math.log2(Math.max(1, leaves)));
  // Only the nodes that hold a box exist (a dense tree of empty buckets would cost memory for every elementary interval
  // at every level: tens of millions of arrays for 10,000 three-part entries).
  const buckets = new Map<number, (readonly ValueRange[])[]>();
  for (const b of boxes) {
    const first = firstPart(b);
    const lo = bisectRight(bounds, first.min) - 1;
    const hi = bisectRight(bounds, first.max) - 1; // the leaf that holds max
    insert(buckets, 1, 0, size - 1, lo, hi, b.slice(1));
  }
  const nodes = new Map<number, Level>();
  for (const [node, list] of buckets) nodes.set(node, buildLevel(list, budget));
  return { kind: 'tree', bounds, size, nodes };
}

/** A box's range in the part its level indexes (every box keeps one part per level still to go). */
function firstPart(box: readonly ValueRange[]): ValueRange {
  const first = box[0];
  if (first === undefined) throw new Error('RangeIndex: a box has fewer parts than the levels above it (every box has the same number)');
  return first;
}

function insert(
  buckets: Map<number, (readonly ValueRange[])[]>,
  node: number,
  nlo: number,
  nhi: number,
  lo: number,
  hi: number,
  rest: readonly ValueRange[],
): void {
  if (hi < nlo || lo > nhi) return;
  if (lo <= nlo && nhi <= hi) {
    const list = buckets.get(node);
    if (list) list.push(rest);
    else buckets.set(node, [rest]);
    return;
  }
  const mid = (nlo + nhi) >> 1;
  insert(buckets, 2 * node, nlo, mid, lo, hi, rest);
  insert(buckets, 2 * node + 1, mid + 1, nhi, lo, hi, rest);
}

function queryLevel(level: Level, point: readonly number[], d: number): boolean {
  const x = point[d];
  // A point with fewer parts than the index matches nothing (as comparing undefined against the bounds did).
  if (x === undefined) return false;
  if (level.kind === 'intervals') {
    const i = bisectRight(level.starts, x) - 1;
    if (i < 0) return false;
    const end = level.ends[i];
    if (end === undefined) throw new Error('RangeIndex: an interval list has fewer ends than starts');
    return x <= end;
  }
  const leaf = bisectRight(level.bounds, x) - 1;
  if (leaf < 0 || leaf >= level.bounds.length - 1) return false;
  for (let node = 1, nlo = 0, nhi = level.size - 1; ; ) {
    const sub = level.nodes.get(node);
    if (sub !== undefined && queryLevel(sub, point, d + 1)) return true;
    if (nlo === nhi) return false;
    const mid = (nlo + nhi) >> 1;
    if (leaf <= mid) {
      node = 2 * node;
      nhi = mid;
    } else {
      node = 2 * node + 1;
      nlo = mid + 1;
    }
  }
}

function mergedIntervals(ranges: readonly ValueRange[]): Level {
  const sorted = [...ranges].sort((a, b) => a.min - b.min);
  const starts: number[] = [];
  const ends: number[] = [];
  for (const r of sorted) {
    const lastEnd = ends.at(-1);
    if (lastEnd !== undefined && r.min <= lastEnd + 1) ends[ends.length - 1] = Math.max(lastEnd, r.max);
    else {
      starts.push(r.min);
      ends.push(r.max);
    }
  }
  return { kind: 'intervals', starts, ends };
}

/** The number of elements of the sorted list that are <= x. */
function bisectRight(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid];
    if (v === undefined) throw new Error('bisectRight: a midpoint fell outside the list');
    if (v <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
