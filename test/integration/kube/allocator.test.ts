/**
 * The address allocator against the real API server (test/k8s): three allocators, each with its own Service cache,
 * its own Lease elector (identities alloc-a, alloc-b, alloc-c) and its own client, in this one process, over one
 * IPPool. Asserts one leader, an address for every Service and none twice; then the leader dies without releasing
 * the Lease (its renewals and passes stop abruptly, as a killed Pod's would) and another takes over, the Services
 * keeping their addresses; and the fencing: a holder whose lease was taken cannot write.
 *
 * In process, not as processes: "dead" here stops the holder's timers where they are and sends nothing more, which
 * is what the Lease and the API server see of a SIGKILLed Pod, except that a request already in flight still
 * completes (a killed process's would be cut off) and the client's connections stay open until the test ends.
 */
import { expect } from 'chai';
import type { V1Service } from '@kubernetes/client-node';
import { type Allocator, createAllocator } from '../../../src/agent/allocator.js';
import { parseConfig } from '../../../src/config/parse.js';
import type { AllocationConfig } from '../../../src/config/types.js';
import { KubeClient } from '../../../src/kube/client.js';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';
import { LeaseElector, type Lease } from '../../../src/kube/lease.js';
import { DEFAULT_LEASE_TIMINGS, type LeaseTimings } from '../../../src/kube/lease-decision.js';
import { projectService } from '../../../src/kube/project.js';
import { isConflict, NotLeaderError, patchServiceStatus } from '../../../src/kube/service-status.js';
import { WatchedCache } from '../../../src/kube/watched-cache.js';
import { silentLogger } from '../../../src/log/logger.js';
import { useCluster, waitFor } from '../../helpers/kube/index.js';

const POOL = 'alloc-test';
const CONFIG = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceLoadBalancerIPs: [{cidr: 192.168.77.0/24}]
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: ${POOL}}
spec: {cidr: 192.168.77.0/28, allowedUses: [LoadBalancer]}
---
# Only Services that name the pool: other suites' LoadBalancer Services on a shared control plane are left alone.
apiVersion: projectcalico.org/v3
kind: KubeControllersConfiguration
metadata: {name: default}
spec: {controllers: {loadBalancer: {assignIPs: RequestedServicesOnly}}}
`;

const lbService = (ns: string, name: string): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, annotations: { 'projectcalico.org/ipv4pools': `["${POOL}"]` } },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }] },
  });

interface Instance {
  identity: string;
  allocator: Allocator;
  cache: WatchedCache<V1Service>;
  elector: () => boolean;
}

describe('kube: the address allocator, three agents and one Lease, against the real API server', function () {
  this.timeout(180_000);
  const cluster = useCluster({ namespacePrefix: 'alloc' });
  let allocation: AllocationConfig;
  let target: ReturnType<typeof loadKubeConfig>['target'];
  const instances: Instance[] = [];
  const stopped = new Set<Instance>();

  before(() => {
    const r = parseConfig(CONFIG);
    if (!r.ok || !r.config.allocation) throw new Error('test configuration');
    allocation = r.config.allocation;
    target = loadKubeConfig(cluster.cp.kubeconfig).target;
    cluster.onCleanup(async () => {
      for (const i of instances) {
        if (!stopped.has(i)) await i.allocator.stop({ release: true });
        await i.cache.stop();
      }
    });
  });

  const start = async (identity: string, timings: LeaseTimings = DEFAULT_LEASE_TIMINGS): Promise<Instance> => {
    const client = new KubeClient(target);
    const log = silentLogger();
    let allocator: Allocator | undefined;
    const cache = new WatchedCache<V1Service>({
      name: 'services',
      client,
      path: '/api/v1/services',
      log,
      project: projectService,
      onChange: () => allocator?.kick('services'),
    });
    allocator = createAllocator({
      client,
      namespace: cluster.ns,
      identity,
      timings,
      services: () => cache.list(),
      synced: () => cache.state === 'synced',
      allocation: () => allocation,
      log,
    });
    const a = allocator;
    const inst: Instance = { identity, allocator: a, cache, elector: () => a.isLeader() };
    await cache.start();
    allocator.kick('start');
    instances.push(inst);
    return inst;
  };

  const lease = async (name = 'svcbgp-allocator'): Promise<Lease> =>
    JSON.parse(await cluster.cp.kubectlOk(['get', 'lease', name, '-n', cluster.ns, '-o', 'json'])) as Lease;

  const addresses = async (): Promise<Map<string, string[]>> => {
    const list = JSON.parse(await cluster.cp.kubectlOk(['get', 'services', '-n', cluster.ns, '-o', 'json'])) as { items: V1Service[] };
    return new Map(list.items.map((s) => [s.metadata?.name ?? '', (s.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []))]));
  };

  const expectDistinctInPool = (m: Map<string, string[]>): void => {
    const all = [...m.values()].flat();
    expect(new Set(all).size, `no address twice: ${JSON.stringify([...m])}`).to.equal(all.length);
    for (const a of all) expect(a).to.match(/^192\.168\.77\.([0-9]|1[0-5])$/);
  };

  let initial: Map<string, string[]>;
  let firstLeader: Instance;

  it('elects exactly one leader; it gives every Service an address from the pool, none twice, with the ownership condition', async () => {
    const { cp, ns } = cluster;
    const t0 = Date.now();
    await Promise.all(['alloc-a', 'alloc-b', 'alloc-c'].map((id) => start(id)));
    for (let i = 1; i <= 10; i++) await cp.kubectlOk(['apply', '-f', '-'], lbService(ns, `web-${i}`));
    initial = await waitFor(
      'an address on each of the 10 Services',
      async () => {
        const m = await addresses();
        return [...m.values()].filter((a) => a.length === 1).length === 10 ? m : undefined;
      },
      { timeoutMs: 90_000 },
    );
    console.log(`      10 Services addressed ${Date.now() - t0} ms after the three allocators started`);
    expectDistinctInPool(initial);
    const leaders = instances.filter((i) => i.elector());
    expect(leaders.map((i) => i.identity)).to.have.length(1);
    firstLeader = leaders[0] as Instance;
    expect((await lease()).spec?.holderIdentity).to.equal(firstLeader.identity);
    const svc = JSON.parse(await cp.kubectlOk(['get', 'service', 'web-1', '-n', ns, '-o', 'json'])) as V1Service;
    const cond = svc.status?.conditions?.find((c) => c.type === 'svcbgp.io/AssignedAddresses');
    expect(cond?.message).to.equal(`assigned by svcbgp: ${initial.get('web-1')?.[0]}`);
  });

  it('a leader that dies without releasing is replaced after the lease duration; Services keep their addresses; new ones get new addresses', async () => {
    const { cp, ns } = cluster;
    const transitions = (await lease()).spec?.leaseTransitions ?? 0;
    const t0 = Date.now();
    await firstLeader.allocator.stop({ release: false });
    stopped.add(firstLeader);
    const next = await waitFor('another allocator to hold the Lease', async () => instances.find((i) => i !== firstLeader && i.elector()), {
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    console.log(
      `      ${next.identity} took over ${Date.now() - t0} ms after ${firstLeader.identity} stopped renewing (lease duration ${DEFAULT_LEASE_TIMINGS.leaseDurationMs} ms, renew interval ${DEFAULT_LEASE_TIMINGS.renewIntervalMs} ms)`,
    );
    const l = await lease();
    expect(l.spec?.holderIdentity).to.equal(next.identity);
    expect(l.spec?.leaseTransitions).to.equal(transitions + 1);
    expect(instances.filter((i) => i.elector()).map((i) => i.identity)).to.deep.equal([next.identity]);

    for (let i = 11; i <= 13; i++) await cp.kubectlOk(['apply', '-f', '-'], lbService(ns, `web-${i}`));
    const after = await waitFor(
      'an address on each of the 13 Services',
      async () => {
        const m = await addresses();
        return [...m.values()].filter((a) => a.length === 1).length === 13 ? m : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expectDistinctInPool(after);
    for (const [name, a] of initial) expect(after.get(name), name).to.deep.equal(a);
  });

  it('fencing: a holder whose lease was taken over cannot write — refused by its own deadline, and by the resourceVersion when it has not noticed', async () => {
    const { cp, ns } = cluster;
    // the allocators of the tests above step aside (a graceful stop: they release)
    for (const i of instances) {
      if (!stopped.has(i)) await i.allocator.stop({ release: true });
      stopped.add(i);
    }
    const timings: LeaseTimings = { leaseDurationMs: 3000, renewIntervalMs: 500, safetyMarginMs: 1000 };
    const client = new KubeClient(target);
    const name = 'svcbgp-allocator-fencing';
    // the stale holder's clock stands still: it has not noticed that its lease ran out
    let staleNow = 0;
    const stale = new LeaseElector({ client, namespace: ns, name, identity: 'stale', log: silentLogger(), timings, monotonicNow: () => staleNow });
    const fresh = new LeaseElector({ client, namespace: ns, name, identity: 'fresh', log: silentLogger(), timings });
    await stale.tick();
    expect(stale.isLeader()).to.equal(true);
    await cp.kubectlOk(['apply', '-f', '-'], lbService(ns, 'fenced'));
    const read = async (): Promise<V1Service> => projectService(JSON.parse(await cp.kubectlOk(['get', 'service', 'fenced', '-n', ns, '-o', 'json'])));
    const seenByStale = await read();

    // the fresh candidate sees the Lease unchanged for its duration and takes it
    const t0 = Date.now();
    await waitFor(
      'the fresh candidate to take the expired lease',
      async () => {
        await fresh.tick();
        return fresh.isLeader();
      },
      { timeoutMs: 30_000, intervalMs: timings.renewIntervalMs },
    );
    console.log(`      fresh took the lease ${Date.now() - t0} ms after its first look (lease duration ${timings.leaseDurationMs} ms)`);
    expect((await lease(name)).spec?.holderIdentity).to.equal('fresh');
    expect(stale.isLeader(), 'the stale holder has not noticed').to.equal(true);

    // the new holder writes the Service's address
    const write = (svc: V1Service, ip: string) => ({
      namespace: ns,
      name: 'fenced',
      uid: svc.metadata?.uid ?? '',
      resourceVersion: svc.metadata?.resourceVersion ?? '',
      ingress: [{ ip }],
      conditionType: 'svcbgp.io/AssignedAddresses',
      condition: {
        type: 'svcbgp.io/AssignedAddresses',
        status: 'True',
        reason: 'Assigned',
        message: `assigned by svcbgp: ${ip}`,
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    });
    await patchServiceStatus(client, write(await read(), '192.168.77.14'), fresh);

    // the stale holder, from its older view, tries to hand out another address: the API server refuses (409)
    const refused = await patchServiceStatus(client, write(seenByStale, '192.168.77.15'), stale).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConflict(refused), String(refused)).to.equal(true);
    expect((await read()).status?.loadBalancer?.ingress).to.deep.equal([{ ip: '192.168.77.14', ipMode: 'VIP' }]);

    // its next renewal is refused too (the Lease's resourceVersion moved on): now it knows
    await stale.tick();
    expect(stale.isLeader()).to.equal(false);
    // and once its clock runs, its own deadline refuses before anything is sent
    staleNow = 10_000;
    const notSent = await patchServiceStatus(client, write(await read(), '192.168.77.15'), stale).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(notSent).to.be.instanceOf(NotLeaderError);
    await fresh.stop({ release: true });
    await stale.stop({ release: false });
  });
});
