import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClient } from '../../../src/kube/client.js';
import { LeaseElector, type Lease } from '../../../src/kube/lease.js';
import { silentLogger } from '../../../src/log/logger.js';

/**
 * LeaseElector against a hand-made stand-in for the API server's Lease endpoint, named as such: one Lease kept in
 * memory, GET / POST / PUT with the API server's optimistic concurrency (a PUT whose resourceVersion is not the
 * stored one is 409 Conflict, a second POST is 409 AlreadyExists). The clock is the test's, so expiry is exact.
 * The same elector against the real API server: test/integration/kube/allocator.test.ts.
 */
async function leaseServer(): Promise<{ client: () => KubeClient; lease: () => Lease | undefined; puts: () => number; close: () => Promise<void> }> {
  let stored: Lease | undefined;
  let rv = 100;
  let puts = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const send = (code: number, obj: unknown): void => {
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      if (req.method === 'GET') return stored ? send(200, stored) : send(404, { kind: 'Status', reason: 'NotFound', message: 'not found' });
      const sent = JSON.parse(body) as Lease;
      if (req.method === 'POST') {
        if (stored) return send(409, { kind: 'Status', reason: 'AlreadyExists', message: 'already exists' });
        stored = { ...sent, metadata: { ...sent.metadata, resourceVersion: String(++rv) } };
        return send(201, stored);
      }
      puts++;
      if (!stored || sent.metadata?.resourceVersion !== stored.metadata?.resourceVersion)
        return send(409, { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' });
      stored = { ...sent, metadata: { ...sent.metadata, resourceVersion: String(++rv) } };
      return send(200, stored);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    client: () => new KubeClient({ server: `http://127.0.0.1:${port}` }),
    lease: () => stored,
    puts: () => puts,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('kube/lease: LeaseElector', () => {
  let srv: Awaited<ReturnType<typeof leaseServer>>;
  let now = 0;
  const elector = (identity: string): LeaseElector =>
    new LeaseElector({ client: srv.client(), namespace: 'svcbgp-system', name: 'svcbgp-allocator', identity, log: silentLogger(), monotonicNow: () => now });
  beforeEach(async () => {
    srv = await leaseServer();
    now = 0;
  });
  afterEach(() => srv.close());

  it('one of three wins; the others wait; renewals keep it; a dead holder is replaced once its duration has passed', async () => {
    const [a, b, c] = [elector('a'), elector('b'), elector('c')];
    await Promise.all([a.tick(), b.tick(), c.tick()]);
    const leaders = [a, b, c].filter((e) => e.isLeader());
    expect(leaders.map((e) => e.identity)).to.have.length(1);
    const first = leaders[0] as LeaseElector;
    expect(srv.lease()?.spec?.holderIdentity).to.equal(first.identity);
    const rest = [a, b, c].filter((e) => e !== first);
    for (let t = 2000; t <= 20_000; t += 2000) {
      now = t;
      await first.tick();
      for (const e of rest) await e.tick();
      expect(first.isLeader(), `at ${t} ms`).to.equal(true);
      expect(rest.some((e) => e.isLeader())).to.equal(false);
    }
    // the holder dies (no more renewals, no release): at 20 s it last renewed, it may act until 26 s by its own count
    now = 25_999;
    expect(first.isLeader()).to.equal(true);
    now = 26_000;
    expect(first.isLeader()).to.equal(false);
    for (const e of rest) await e.tick();
    expect(
      rest.some((e) => e.isLeader()),
      'not before the holder’s duration',
    ).to.equal(false);
    now = 28_000; // the candidates saw its last renewal at 20 s: 20 + 8
    for (const e of rest) await e.tick();
    expect(rest.filter((e) => e.isLeader())).to.have.length(1);
    expect(srv.lease()?.spec?.leaseTransitions).to.equal(1);
  });

  it('a holder whose view is stale loses the PUT (409) and stops at once', async () => {
    const a = elector('a');
    await a.tick();
    expect(a.isLeader()).to.equal(true);
    // someone else rewrites the Lease behind a's back (as an expired lease taken over would be)
    const b = elector('b');
    now = 9000;
    await b.tick(); // first look: counts from now
    now = 17_000;
    await b.tick();
    expect(b.isLeader()).to.equal(true);
    const putsBefore = srv.puts();
    await a.tick();
    expect(srv.puts()).to.equal(putsBefore + 1);
    expect(a.isLeader()).to.equal(false);
    expect(srv.lease()?.spec?.holderIdentity).to.equal('b');
  });

  it('releases on a graceful stop, so another takes over on its next look', async () => {
    const a = elector('a');
    const b = elector('b');
    await a.tick();
    await b.tick();
    expect(b.isLeader()).to.equal(false);
    await a.stop({ release: true });
    expect(srv.lease()?.spec?.holderIdentity).to.equal('');
    now = 1; // well inside the duration a would have had
    await b.tick();
    expect(b.isLeader()).to.equal(true);
    expect(srv.lease()?.spec?.leaseTransitions).to.equal(1);
  });
});
