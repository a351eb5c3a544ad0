/** What the benchmarks share: bounded parallelism for API writes and a process's RSS. */
import { readFileSync } from 'node:fs';

/** Runs `fn` over `items` with at most `width` calls in flight. */
export async function parallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** VmRSS of a process in MiB (0 when unknown). */
export function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}
