import type { Logger } from 'winston';

/**
 * At most this many lines of one kind per pass; the rest become one summary line. A first pass over 10,000
 * Services, or one tenant's Service with 100,000 refused addresses, must not write 100,000 lines: the lines
 * that matter drown, log shipping falls behind, the node's disk fills. The metrics and `svcbgp explain` have
 * the complete picture.
 */
export const MAX_LINES_PER_PASS = 50;

/**
 * Logs one line per item for the first `max` items, then one line "<message>: ... and N more" with the count.
 * Returns how many items were not logged individually.
 */
export function logBounded<T>(
  log: Logger,
  level: 'info' | 'warn',
  message: string,
  items: readonly T[],
  fields: (item: T) => Record<string, unknown>,
  max = MAX_LINES_PER_PASS,
): number {
  const shown = Math.min(items.length, Math.max(0, max));
  for (let i = 0; i < shown; i++) log[level](message, fields(items[i] as T));
  const more = items.length - shown;
  if (more > 0) log[level](`${message}: ... and ${more} more`, { more, total: items.length, notLoggedIndividually: true });
  return more;
}
