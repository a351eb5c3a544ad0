/**
 * The real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler built from
 * k8s.io/kubernetes) with the node simulator as the only stand-in: the seed article's kubectl commands
 * work as written, the real scheduler places the Pods, the real EndpointSlice controller writes the
 * EndpointSlices, and @kubernetes/client-node informers list and watch them.
 */
import { expect } from 'chai';
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type ObjectCache,
  type V1EndpointSlice,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import {
  SEED_EXPOSE,
  SEED_NGINX_DEPLOYMENT,
  SEED_PATCH_EXTERNAL_IP,
  SEED_PATCH_LOCAL,
  endpointsOf,
  useCluster,
  waitFor,
  waitForEndpointSlices,
} from '../../helpers/kube/index.js';

function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [base, len] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  const start = toInt(base!);
  return toInt(ip) >= start && toInt(ip) < start + size;
}

describe('kube: real control plane + node simulator, the seed article', function () {
  this.timeout(120_000);
  const cluster = useCluster({ namespacePrefix: 'seed' });

  it('registers node-1..3 Ready with InternalIPs 192.168.1.10-12 and /24 podCIDRs the real node-IPAM controller cut from 10.48.0.0/16', async () => {
    const nodes = JSON.parse(await cluster.cp.kubectlOk(['get', 'nodes', '-o', 'json'])) as {
      items: {
        metadata: { name: string; labels: Record<string, string> };
        spec: { podCIDR?: string };
        status: { addresses: { type: string; address: string }[]; conditions: { type: string; status: string }[] };
      }[];
    };
    const byName = new Map(nodes.items.map((n) => [n.metadata.name, n]));
    const cidrs = new Set<string>();
    for (const [name, ip] of [
      ['node-1', '192.168.1.10'],
      ['node-2', '192.168.1.11'],
      ['node-3', '192.168.1.12'],
    ] as const) {
      const n = byName.get(name);
      expect(n, name).to.exist;
      expect(n!.status.addresses).to.deep.include({ type: 'InternalIP', address: ip });
      expect(n!.status.conditions.find((c) => c.type === 'Ready')?.status).to.equal('True');
      expect(n!.metadata.labels['kubernetes.io/hostname']).to.equal(name);
      expect(n!.spec.podCIDR).to.match(/^10\.48\.\d+\.0\/24$/);
      cidrs.add(n!.spec.podCIDR!);
    }
    expect(cidrs.size).to.equal(3);
    // the table an operator reads
    const wide = await cluster.cp.kubectlOk(['get', 'nodes', '-o', 'wide']);
    expect(wide).to.match(/node-1\s+Ready\s/);
  });

  it("runs the article's kubectl commands: apply the nginx Deployment, expose, patch to NodePort + Local, add the external IP", async () => {
    const { cp, ns, kc, sim } = cluster;
    expect(await cp.kubectlOk(['apply', '-n', ns, '-f', '-'], SEED_NGINX_DEPLOYMENT)).to.contain('deployment.apps/nginx created');

    // The real scheduler binds both replicas to simulated nodes; the simulator reports them Running with an IP from the node's podCIDR.
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await waitFor('2 nginx Pods Running', async () => {
      const l = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=nginx' });
      const running = l.items.filter((p) => p.status?.phase === 'Running' && p.status.podIP);
      return running.length === 2 ? running : undefined;
    });
    for (const p of pods) {
      expect(p.spec!.nodeName).to.match(/^node-[123]$/);
      expect(inCidr(p.status!.podIP!, sim.podCIDR(p.spec!.nodeName!)!), `${p.status!.podIP} in ${sim.podCIDR(p.spec!.nodeName!)}`).to.equal(true);
      expect(p.status!.conditions!.find((c) => c.type === 'Ready')!.status).to.equal('True');
    }
    const scheduled = await cp.kubectlOk([
      'get',
      'events',
      '-n',
      ns,
      '--field-selector',
      'reason=Scheduled',
      '-o',
      'jsonpath={.items[*].source.component}{.items[*].reportingComponent}',
    ]);
    expect(scheduled).to.contain('default-scheduler');

    // The article writes `kubectl expose nginx`: kubectl needs the resource type.
    const bad = await cp.kubectl(['expose', '-n', ns, 'nginx']);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.match(/must provide one or more resources|resource type|the server doesn't have a resource type "nginx"/i);
    expect(await cp.kubectlOk(['-n', ns, ...SEED_EXPOSE])).to.contain('service/nginx exposed');

    const svc = await core.readNamespacedService({ name: 'nginx', namespace: ns });
    expect(inCidr(svc.spec!.clusterIP!, '10.49.0.0/16'), svc.spec!.clusterIP).to.equal(true);
    const eps = await waitForEndpointSlices(kc, ns, 'nginx', { ready: 2, nodes: pods.map((p) => p.spec!.nodeName!) });
    expect(eps.map((e) => e.addresses[0]).sort()).to.deep.equal(pods.map((p) => p.status!.podIP!).sort());
    expect(eps.every((e) => e.addressType === 'IPv4')).to.equal(true);

    expect(await cp.kubectlOk(['-n', ns, ...SEED_PATCH_LOCAL])).to.contain('service/nginx patched');
    const local = await core.readNamespacedService({ name: 'nginx', namespace: ns });
    expect(local.spec!.type).to.equal('NodePort');
    expect(local.spec!.externalTrafficPolicy).to.equal('Local');
    const nodePort = local.spec!.ports![0]!.nodePort!;
    expect(nodePort).to.be.within(30000, 32767);

    // Needs the DenyServiceExternalIPs admission plugin off (it is, in test/k8s/control-plane.sh).
    expect(await cp.kubectlOk(['-n', ns, ...SEED_PATCH_EXTERNAL_IP])).to.contain('service/nginx patched');
    const table = await cp.kubectlOk(['get', 'services', '-n', ns]);
    // the article's table: nginx NodePort 10.49.x.x 192.168.3.180 80:3xxxx/TCP
    expect(table).to.match(new RegExp(`nginx\\s+NodePort\\s+${local.spec!.clusterIP!.replace(/\./g, '\\.')}\\s+192\\.168\\.3\\.180\\s+80:${nodePort}/TCP`));
    const defaultSvc = await cp.kubectlOk(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(defaultSvc).to.equal('10.49.0.1');
  });

  it('lists and watches Services and EndpointSlices through client-node informers while the real controllers react to Pod readiness, termination and removal', async () => {
    const { cp, ns, kc, sim } = cluster;
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const events: string[] = [];
    const services: Informer<V1Service> & ObjectCache<V1Service> = makeInformer(kc, `/api/v1/namespaces/${ns}/services`, () =>
      core.listNamespacedService({ namespace: ns }),
    );
    const slices: Informer<V1EndpointSlice> & ObjectCache<V1EndpointSlice> = makeInformer(kc, `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, () =>
      discovery.listNamespacedEndpointSlice({ namespace: ns }),
    );
    for (const [name, inf] of [
      ['service', services],
      ['slice', slices],
    ] as const) {
      for (const verb of ['add', 'update', 'delete'] as const) {
        (inf as Informer<V1Service | V1EndpointSlice>).on(verb, (o) => events.push(`${name} ${verb} ${o.metadata!.name}`));
      }
    }
    const errors: unknown[] = [];
    services.on('error', (e) => errors.push(e));
    slices.on('error', (e) => errors.push(e));
    await services.start();
    await slices.start();
    try {
      // the list: the Service from the previous test and its slice (the Deployment still runs)
      await waitFor('informer caches filled', async () => services.get('nginx', ns) !== undefined && slices.list(ns).length > 0);
      const svcSlices = (): V1EndpointSlice[] => slices.list(ns).filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === 'nginx');
      const endpoints = (): NonNullable<V1EndpointSlice['endpoints']> => svcSlices().flatMap((s) => s.endpoints ?? []);
      const byPod = (pod: string): NonNullable<V1EndpointSlice['endpoints']>[number] | undefined => endpoints().find((e) => e.targetRef?.name === pod);
      expect(services.get('nginx', ns)!.spec!.externalIPs).to.deep.equal(['192.168.3.180']);

      // watch: a Service change arrives as an update
      await cp.kubectlOk(['label', 'service', 'nginx', '-n', ns, 'svcbgp.io/watched=yes']);
      await waitFor('service update via watch', async () => services.get('nginx', ns)?.metadata?.labels?.['svcbgp.io/watched'] === 'yes');
      expect(events).to.include('service update nginx');

      // scale to 3: the scheduler spreads, the EndpointSlice controller adds the endpoint, the watch delivers it
      await apps.patchNamespacedDeploymentScale(
        { name: 'nginx', namespace: ns, body: { spec: { replicas: 3 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await waitFor('3 ready endpoints via watch', async () => endpoints().filter((e) => e.conditions?.ready).length === 3, {
        lastSeen: () => JSON.stringify(endpoints()),
      });
      const podList = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=nginx' })).items.filter((p: V1Pod) => !p.metadata!.deletionTimestamp);
      expect(podList).to.have.length(3);
      const [a, b, c] = podList.map((p) => p.metadata!.name!) as [string, string, string];

      // not ready: the endpoint stays, ready=false serving=false
      await sim.setPodReady(ns, a, false);
      await waitFor(`${a} not ready`, async () => byPod(a)?.conditions?.ready === false && byPod(a)?.conditions?.serving === false);
      await sim.setPodReady(ns, a, true);
      await waitFor(`${a} ready again`, async () => byPod(a)?.conditions?.ready === true);

      // terminating but serving: deleted with a grace period, the simulated kubelet keeps it Ready
      await sim.terminateServing(ns, b, 600);
      await waitFor(
        `${b} terminating+serving`,
        async () => {
          const e = byPod(b)?.conditions;
          return e?.terminating === true && e.serving === true && e.ready === false;
        },
        { lastSeen: () => JSON.stringify(byPod(b)) },
      );
      await sim.finishTermination(ns, b);
      await waitFor(`${b} gone from the slices`, async () => byPod(b) === undefined);

      // gone at once (force delete)
      await sim.removePod(ns, c);
      await waitFor(`${c} gone from the slices`, async () => byPod(c) === undefined);

      // the ReplicaSet replaces both; the scheduler places them; the slices reach 3 ready again
      await waitForEndpointSlices(kc, ns, 'nginx', { ready: 3 });
      await waitFor('the watch shows 3 ready again', async () => endpoints().filter((e) => e.conditions?.ready).length === 3);
      expect(events.some((e) => e.startsWith('slice update'))).to.equal(true);
      expect(errors).to.deep.equal([]);
      expect(sim.errors.map(String)).to.deep.equal([]);
      const final = await endpointsOf(kc, ns, 'nginx');
      expect(final.every((e) => /^node-[123]$/.test(e.nodeName ?? ''))).to.equal(true);
    } finally {
      await services.stop();
      await slices.stop();
    }
  });

  it("reports the control plane's start time and memory (informational, no threshold)", async () => {
    const mem = cluster.cp.memoryMiB();
    process.stderr.write(`      control plane ready in ${cluster.cp.startMs} ms (first suite of the run); RSS MiB: ${JSON.stringify(mem)}\n`);
    for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) expect(mem[name], name).to.be.greaterThan(0);
  });
});
