/** What the benchmarks share: bounded parallelism for API writes and a process's RSS. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { V1EndpointSlice } from '@kubernetes/client-node';

/** Runs `fn` over `items` with at most `width` calls in flight. */
export async function parallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * The hand-written EndpointSlice every benchmark gives its Services (no Pods: N Pods would measure the scheduler and
 * the node simulator, not svcbgp): `<service>-1`, labelled for the Service, one ready endpoint per address on `nodeName`.
 */
export function benchSlice(service: string, nodeName: string, addresses: readonly string[]): V1EndpointSlice {
  return {
    metadata: { name: `${service}-1`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: addresses.map((a) => ({ addresses: [a], nodeName, conditions: { ready: true, serving: true, terminating: false } })),
    ports: [{ port: 80, protocol: 'TCP' }],
  };
}

/** VmRSS of a process in MiB (0 when unknown); `VmHWM`: its peak RSS so far. */
export function rssMiB(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  if (!pid) return 0;
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/**
 * Put a section into a Markdown file between `<!-- name -->` and `<!-- /name -->` (replacing the last one, else
 * appended): the suite writes the file, the benchmarks that run after it add their part.
 */
export function writeSection(file: string, name: string, body: string): void {
  const begin = `<!-- ${name}: written by test/bench -->`;
  const end = `<!-- /${name} -->`;
  const md = readFileSync(file, 'utf8');
  const i = md.indexOf(begin);
  const j = md.indexOf(end);
  const section = `${begin}\n${body.trim()}\n${end}`;
  writeFileSync(file, i >= 0 && j > i ? `${md.slice(0, i)}${section}${md.slice(j + end.length)}` : `${md.trimEnd()}\n\n${section}\n`);
}
