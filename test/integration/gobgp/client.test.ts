/**
 * The GoBGP client against a real gobgpd 3.10 (no peers): paths in and out of the global RIB, checked
 * with the `gobgp` CLI an operator would use; errors as a caller sees them.
 */
import { expect } from 'chai';
import { GobgpError, type WatchEvent } from '../../../src/gobgp/index.js';
import { connectTestGobgp as connectGobgp, type TestGobgpClient as GobgpClient } from '../../helpers/gobgpd-client.js';
import type { Route } from '../../../src/model/route.js';
import { freePort, startGobgpd, waitFor, type Gobgpd } from '../../helpers/gobgpd.js';

type CliRib = Record<string, { nlri: { prefix: string }; attrs: { type: number; nexthop?: string; communities?: number[]; value?: unknown }[] }[]>;

function r(prefix: string, extra: Partial<Route> = {}): Route {
  const v6 = prefix.includes(':');
  return { prefix, family: v6 ? 'ipv6-unicast' : 'ipv4-unicast', nextHop: v6 ? '::' : '0.0.0.0', communities: [], largeCommunities: [], ...extra };
}

async function cliRib(d: Gobgpd, family: 'ipv4' | 'ipv6'): Promise<CliRib> {
  return (await d.cliJson<CliRib | null>('global', 'rib', '-a', family)) ?? {};
}

describe('GoBGP client against real gobgpd', function () {
  this.timeout(60000);
  let d: Gobgpd;
  let client: ReturnType<typeof connectGobgp>;

  before(async function () {
    d = await startGobgpd({ name: 'client' });
    client = connectGobgp(d.apiAddress, { deadlineMs: 5000 });
  });
  after(async function () {
    client?.close();
    await d?.stop();
  });

  it('before StartBgp: getGlobal() is undefined and AddPath fails saying BGP is not started', async function () {
    expect(await client.getGlobal()).to.equal(undefined);
    const err = await client.addPath(r('10.0.0.0/8')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(GobgpError);
    expect(String(err)).to.equal("GobgpError: AddPath 10.0.0.0/8 failed: UNKNOWN: bgp server hasn't started yet");
    expect((err as GobgpError).bgpNotStarted).to.equal(true);
  });

  it('StartBgp then GetBgp reports our AS, router-id and port', async function () {
    await client.startBgp({ asn: 64512, routerId: '192.168.1.10', listenPort: -1 });
    expect(await client.getGlobal()).to.deep.include({ asn: 64512, routerId: '192.168.1.10', listenPort: -1 });
    expect(await d.cli('global')).to.match(/AS:\s+64512\s+Router-ID: 192\.168\.1\.10/);
  });

  it('AddPath / ListPath / DeletePath round-trip, IPv4 (aggregate, /32) with communities, large communities, local-pref', async function () {
    const agg = r('10.49.0.0/16', { communities: ['64512:100'], largeCommunities: ['64512:1:2'], localPref: 200 });
    const host = r('10.49.62.131/32');
    const uuidAgg = await client.addPath(agg);
    await client.addPath(host);
    expect(uuidAgg).to.match(/^[0-9a-f]{32}$/);

    const listed = await client.listPaths('ipv4-unicast');
    expect(listed.map((p) => p.route)).to.deep.equal([agg, host]);
    expect(listed.every((p) => p.local && p.best)).to.equal(true);

    // What the operator sees.
    const rib = await cliRib(d, 'ipv4');
    expect(Object.keys(rib).sort()).to.deep.equal(['10.49.0.0/16', '10.49.62.131/32']);
    const attrs = rib['10.49.0.0/16']![0]!.attrs;
    expect(attrs.find((a) => a.type === 3)?.nexthop).to.equal('0.0.0.0');
    expect(attrs.find((a) => a.type === 8)?.communities).to.deep.equal([64512 * 65536 + 100]);
    expect(attrs.find((a) => a.type === 5)?.value).to.equal(200);
    expect(await d.cli('global', 'rib')).to.match(
      /\*> 10\.49\.0\.0\/16 +0\.0\.0\.0 .*\[\{Origin: i\} \{LocalPref: 200\} \{Communities: 64512:100\} \{LargeCommunity: \[ 64512:1:2\]\}\]/,
    );

    await client.deletePath({ uuid: uuidAgg });
    expect(Object.keys(await cliRib(d, 'ipv4'))).to.deep.equal(['10.49.62.131/32']);
    await client.deletePath(host);
    expect(await cliRib(d, 'ipv4')).to.deep.equal({});
  });

  it('AddPath / ListPath / DeletePath round-trip, IPv6 (/128 and aggregate) with the next hop in MP_REACH', async function () {
    const host = r('fd00:49::1/128', { nextHop: 'fd00::10' });
    const agg = r('fd00:49::/64', { nextHop: 'fd00::10', communities: ['64512:300'] });
    await client.addPath(agg);
    await client.addPath(host);
    expect((await client.listPaths('ipv6-unicast')).map((p) => p.route)).to.deep.equal([agg, host]);
    const rib = await cliRib(d, 'ipv6');
    expect(rib['fd00:49::1/128']![0]!.attrs.find((a) => a.type === 14)?.nexthop).to.equal('fd00::10');
    await client.deletePath(agg);
    expect(Object.keys(await cliRib(d, 'ipv6'))).to.deep.equal(['fd00:49::1/128']);
    await client.deletePath(host);
    expect(await client.listPaths('ipv6-unicast')).to.deep.equal([]);
  });

  it('a second AddPath for the same prefix replaces the first (one path in the RIB)', async function () {
    await client.addPath(r('10.50.0.0/16', { communities: ['64512:1'] }));
    await client.addPath(r('10.50.0.0/16', { communities: ['64512:2'] }));
    const paths = await client.listPaths('ipv4-unicast');
    expect(paths.map((p) => p.route.communities)).to.deep.equal([['64512:2']]);
    await client.deletePath(r('10.50.0.0/16'));
    expect(await client.listPaths('ipv4-unicast')).to.deep.equal([]);
  });

  it('deleting one route leaves the others (no accidental delete-all)', async function () {
    await client.addPaths([r('10.60.0.1/32'), r('10.60.0.2/32'), r('fd00:60::1/128', { nextHop: 'fd00::10' })]);
    await client.deletePath(r('10.60.0.1/32'));
    expect(Object.keys(await cliRib(d, 'ipv4'))).to.deep.equal(['10.60.0.2/32']);
    expect(Object.keys(await cliRib(d, 'ipv6'))).to.deep.equal(['fd00:60::1/128']);
    await client.deletePaths([r('10.60.0.2/32'), r('fd00:60::1/128', { nextHop: 'fd00::10' })]);
    expect(await cliRib(d, 'ipv4')).to.deep.equal({});
    expect(await cliRib(d, 'ipv6')).to.deep.equal({});
  });

  it('bulk: 3,000 paths in through AddPathStream, listed, then withdrawn in bulk', async function () {
    const routes = Array.from({ length: 3000 }, (_, i) => r(`10.${100 + Math.floor(i / 256)}.${i % 256}.1/32`));
    await client.addPaths(routes, { batchSize: 250 });
    const listed = await client.listPaths('ipv4-unicast');
    expect(listed.length).to.equal(3000);
    expect(new Set(listed.map((p) => p.route.prefix))).to.deep.equal(new Set(routes.map((x) => x.prefix)));
    expect(await d.cli('global', 'rib', 'summary')).to.match(/Destination: 3000, Path: 3000/);
    await client.deletePaths(routes);
    expect(await client.listPaths('ipv4-unicast')).to.deep.equal([]);
  });

  it('a bad route is refused before anything is sent, naming the value', async function () {
    const err = await client.addPath(r('10.49.0.1/16')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).to.match(/prefix "10\.49\.0\.1\/16" has host bits set/);
    expect(await client.listPaths('ipv4-unicast')).to.deep.equal([]);
  });

  it('DeletePath with an unknown uuid fails and deletes nothing', async function () {
    await client.addPath(r('10.70.0.0/16'));
    const err = await client.deletePath({ uuid: '00000000000000000000000000000001' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).to.match(/^GobgpError: DeletePath uuid 0+1 failed: UNKNOWN: can't find a specified path/);
    expect(Object.keys(await cliRib(d, 'ipv4'))).to.deep.equal(['10.70.0.0/16']);
    await client.deletePath(r('10.70.0.0/16'));
  });

  it('watch: table events for paths added and withdrawn', async function () {
    const events: WatchEvent[] = [];
    const handle = client.watch({ table: true, peers: true }, (e) => events.push(e));
    try {
      // gobgpd registers the watcher asynchronously and says so with END_OF_INIT.
      await waitFor('the watch to be registered', async () => (events.some((e) => e.kind === 'end-of-init') ? true : undefined), 15000, 50);
      await client.addPath(r('10.80.0.0/16'));
      await waitFor(
        'a table event for 10.80.0.0/16',
        async () => (events.some((e) => e.kind === 'table' && e.paths.some((p) => p.route.prefix === '10.80.0.0/16' && !p.withdrawn)) ? true : undefined),
        15000,
      );
      await client.deletePath(r('10.80.0.0/16'));
      await waitFor(
        'a withdraw event',
        async () => (events.some((e) => e.kind === 'table' && e.paths.some((p) => p.route.prefix === '10.80.0.0/16' && p.withdrawn)) ? true : undefined),
        15000,
      );
    } finally {
      handle.close();
      await handle.done;
    }
  });

  it('the same calls work over a unix socket', async function () {
    const u = await startGobgpd({ name: 'client-unix', unixSocket: true });
    const c: GobgpClient = connectGobgp(u.apiAddress);
    try {
      expect(u.apiAddress).to.match(/^unix:\/\/\/.*gobgp\.sock$/);
      await c.startBgp({ asn: 64512, routerId: '192.168.1.11', listenPort: -1 });
      await c.addPath(r('10.49.0.0/16'));
      expect(Object.keys(await cliRib(u, 'ipv4'))).to.deep.equal(['10.49.0.0/16']);
    } finally {
      c.close();
      await u.stop();
    }
  });

  it('watch: when gobgpd dies, `done` rejects with a GobgpError naming WatchEvent (how a caller notices a restart)', async function () {
    const g = await startGobgpd({ name: 'client-watch-kill' });
    const c = connectGobgp(g.apiAddress);
    try {
      const events: WatchEvent[] = [];
      const handle = c.watch({ peers: true }, (e) => events.push(e));
      await waitFor('the watch to be registered', async () => (events.some((e) => e.kind === 'end-of-init') ? true : undefined), 15000, 50);
      await g.stop('SIGKILL');
      const err = await handle.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(GobgpError);
      expect(String(err)).to.match(/^GobgpError: WatchEvent failed: (UNAVAILABLE|INTERNAL|UNKNOWN): /);
    } finally {
      c.close();
      await g.stop();
    }
  });

  it('no gobgpd listening: the error names the call and says UNAVAILABLE', async function () {
    const c = connectGobgp(`127.0.0.1:${await freePort()}`, { deadlineMs: 2000 });
    try {
      const err = await c.getGlobal().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(GobgpError);
      expect((err as GobgpError).codeName).to.be.oneOf(['UNAVAILABLE', 'DEADLINE_EXCEEDED']);
      expect(String(err)).to.match(/^GobgpError: GetBgp failed: (UNAVAILABLE|DEADLINE_EXCEEDED): /);
    } finally {
      c.close();
    }
  });
});
