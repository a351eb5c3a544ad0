/**
 * Benchmark (reports numbers, asserts nothing): adding and withdrawing N /32 paths in a real gobgpd
 * through the bulk path (AddPathStream) versus single AddPath/DeletePath calls, one at a time and
 * 64 in flight. gobgpd has BGP started and no peers.
 *
 *   npm run build && node dist/test/bench/gobgp-paths.js [N=10000]
 */
import { connectTestGobgp as connectGobgp } from '../helpers/gobgpd-client.js';
import type { Route } from '../../src/model/route.js';
import { startGobgpd } from '../helpers/gobgpd.js';

const N = Number(process.argv[2] ?? 10000);

function routes(n: number): Route[] {
  return Array.from({ length: n }, (_, i) => ({
    prefix: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`,
    family: 'ipv4-unicast' as const,
    nextHop: '0.0.0.0',
    communities: [],
    largeCommunities: [],
  }));
}

async function timed(label: string, fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(
    `${label.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${Math.round((N / ms) * 1000)
      .toString()
      .padStart(7)} paths/s`,
  );
  return ms;
}

async function parallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const d = await startGobgpd({ name: 'bench', logLevel: 'warn' });
const client = connectGobgp(d.apiAddress, { deadlineMs: 60000 });
try {
  await client.startBgp({ asn: 64512, routerId: '192.168.1.10', listenPort: -1 });
  const rs = routes(N);
  const count = async () => (await client.listPaths('ipv4-unicast')).length;
  console.log(`gobgpd ${d.apiAddress}, ${N} /32 paths, no peers`);

  await timed('AddPathStream (batches of 500)', () => client.addPaths(rs));
  if ((await count()) !== N) throw new Error('bulk add incomplete');
  await timed('ListPath (all)', () => client.listPaths('ipv4-unicast'));
  await timed('AddPathStream withdraw (batches of 500)', () => client.deletePaths(rs));
  if ((await count()) !== 0) throw new Error('bulk withdraw incomplete');

  await timed('AddPath, one at a time', async () => {
    for (const r of rs) await client.addPath(r);
  });
  await timed('DeletePath by route, one at a time', async () => {
    for (const r of rs) await client.deletePath(r);
  });
  await timed('AddPath, 64 in flight', () => parallel(rs, 64, (r) => client.addPath(r)));
  await timed('DeletePath by route, 64 in flight', () => parallel(rs, 64, (r) => client.deletePath(r)));
  if ((await count()) !== 0) throw new Error('parallel withdraw incomplete');
} finally {
  client.close();
  await d.stop();
}
