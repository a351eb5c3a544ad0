import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClient } from '../../../src/kube/client.js';
import { NotLeaderError, isConflict, patchServiceStatus, type ServiceStatusWrite } from '../../../src/kube/service-status.js';

/**
 * The request the allocator's status write sends, seen by a hand-made stand-in for the API server (named as such:
 * it records the request and answers what the case scripts). The real API server's answer to a stale
 * resourceVersion: test/integration/kube/allocator.test.ts.
 */
describe('kube/service-status: the fenced status write', () => {
  const seen: { method?: string; url?: string; type?: string; body?: unknown }[] = [];
  let answer = 200;
  let server: http.Server;
  let client: KubeClient;
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body: JSON.parse(body) });
        res.writeHead(answer, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(answer === 200 ? { metadata: { resourceVersion: '8' } } : { kind: 'Status', reason: 'Conflict', message: 'modified' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = new KubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    seen.length = 0;
    answer = 200;
  });

  const write: ServiceStatusWrite = {
    namespace: 'ns',
    name: 'web',
    uid: 'u1',
    resourceVersion: '7',
    ingress: [{ ip: '192.168.4.1' }],
    conditionType: 'svcbgp.io/AssignedAddresses',
    condition: undefined,
  };
  const holding = { validUntil: () => 10_000, now: () => 0 };

  it('is a strategic merge patch of /status with resourceVersion and uid as preconditions; removing the condition is a $patch delete', async () => {
    await patchServiceStatus(client, write, holding);
    expect(seen).to.deep.equal([
      {
        method: 'PATCH',
        url: '/api/v1/namespaces/ns/services/web/status',
        type: 'application/strategic-merge-patch+json',
        body: {
          metadata: { resourceVersion: '7', uid: 'u1' },
          status: { loadBalancer: { ingress: [{ ip: '192.168.4.1' }] }, conditions: [{ $patch: 'delete', type: 'svcbgp.io/AssignedAddresses' }] },
        },
      },
    ]);
  });

  it('sends nothing when the fence says the lease is not held, or its deadline is too close', async () => {
    for (const fence of [
      { validUntil: () => undefined, now: () => 0 },
      { validUntil: () => 100, now: () => 0 },
    ]) {
      const err = await patchServiceStatus(client, write, fence).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(NotLeaderError);
    }
    expect(seen).to.deep.equal([]);
  });

  it('a 409 answer is a conflict', async () => {
    answer = 409;
    const err = await patchServiceStatus(client, write, holding).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConflict(err)).to.equal(true);
  });
});
