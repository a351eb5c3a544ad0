/**
 * deploy/ proven against the real API server: server-side dry run and real apply, the CRD schemas reject
 * bad BGPPeer / BGPConfiguration input with their messages, the DaemonSet gets one Pod per node from the
 * real DaemonSet controller, and the agent's API calls succeed with the svcbgp ServiceAccount's token —
 * while a role that lacks one verb (watch) fails. The kustomize install (`kubectl apply -k deploy/`, the
 * image in one `images:` entry) yields the very objects `-f` does, and the example overlay
 * (examples/kustomize/) changes exactly what it says: image, BGP configuration, gobgpd log level, resources.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  Watch,
  makeInformer,
  type KubeConfig,
  type KubernetesObject,
  type V1Service,
} from '@kubernetes/client-node';
import { parseConfig } from '../../../src/config/parse.js';
import { KubeClient } from '../../../src/kube/client.js';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';
import { LeaseElector } from '../../../src/kube/lease.js';
import { silentLogger } from '../../../src/log/logger.js';
import { repoRoot, useCluster, waitFor } from '../../helpers/kube/index.js';

const DEPLOY = (): string => resolve(repoRoot(), 'deploy');
const OVERLAY = (): string => resolve(repoRoot(), 'examples/kustomize');
const AGENT_NS = 'svcbgp-system';

const peer = (name: string, spec: Record<string, unknown>): string =>
  JSON.stringify({ apiVersion: 'svcbgp.io/v1alpha1', kind: 'BGPPeer', metadata: { name }, spec });
const bgpConfig = (name: string, spec: Record<string, unknown>): string =>
  JSON.stringify({ apiVersion: 'svcbgp.io/v1alpha1', kind: 'BGPConfiguration', metadata: { name }, spec });

describe('kube: deploy/ manifests against the real API server', function () {
  this.timeout(120_000);
  const cluster = useCluster({ namespacePrefix: 'deploy' });
  let applied = false;
  before(() => {
    cluster.onCleanup(async () => {
      if (!applied) return;
      // The cluster-scoped svcbgp.io resources this suite created, by name first: they must never reach another
      // suite's agent (192.168.1.x peers are not loopback), even if deleting the CRDs below does not finish.
      await cluster.cp.kubectl(['delete', 'bgppeers.svcbgp.io', 'bgppeer-global-64512', 'rbac-probe', 'forms', 'bad', '--ignore-not-found']);
      await cluster.cp.kubectl(['delete', 'bgpconfigurations.svcbgp.io', 'default', 'bad', '--ignore-not-found']);
      // with the simulator still running, so the DaemonSet's Pods can finish terminating
      await cluster.cp.kubectl(['delete', '-f', DEPLOY(), '--ignore-not-found', '--wait=true', '--timeout=90s']);
      await cluster.cp.kubectl(['delete', 'clusterrole,clusterrolebinding', 'svcbgp-nowatch', '--ignore-not-found']);
    });
  });

  it('passes `kubectl apply --dry-run=server -f deploy/` (persisting nothing), then applies for real; the DaemonSet runs one Pod per node', async () => {
    const { cp } = cluster;
    // On a shared control plane another suite may have applied deploy/ already: then "configured"/"unchanged".
    const fresh = (await cp.kubectl(['get', 'crd', 'bgppeers.svcbgp.io'])).code !== 0;
    // The namespace first: every other manifest lives in it, and a dry run cannot create it.
    await cp.kubectlOk(['apply', '-f', resolve(DEPLOY(), '00-namespace.yaml')]);
    applied = true;
    const dry = await cp.kubectl(['apply', '--dry-run=server', '-f', DEPLOY()]);
    expect(dry.stderr).to.equal('');
    expect(dry.code).to.equal(0);
    for (const obj of [
      'customresourcedefinition.apiextensions.k8s.io/bgppeers.svcbgp.io',
      'customresourcedefinition.apiextensions.k8s.io/bgpconfigurations.svcbgp.io',
      'serviceaccount/svcbgp',
      'clusterrole.rbac.authorization.k8s.io/svcbgp',
      'clusterrolebinding.rbac.authorization.k8s.io/svcbgp',
      'role.rbac.authorization.k8s.io/svcbgp-secrets',
      'rolebinding.rbac.authorization.k8s.io/svcbgp-secrets',
      'role.rbac.authorization.k8s.io/svcbgp-allocator',
      'rolebinding.rbac.authorization.k8s.io/svcbgp-allocator',
      'configmap/svcbgp-config',
      'daemonset.apps/svcbgp',
    ]) {
      const verb = fresh ? 'created' : '(created|configured|unchanged)';
      expect(dry.stdout).to.match(new RegExp(`^${obj.replace(/\./g, '\\.')} ${verb} \\(server dry run\\)$`, 'm'));
    }
    if (fresh) {
      const none = await cp.kubectl(['get', 'crd', 'bgppeers.svcbgp.io']);
      expect(none.code).to.not.equal(0);
      expect(none.stderr).to.contain('NotFound');
    }

    const real = await cp.kubectlOk(['apply', '-f', DEPLOY()]);
    expect(real).to.match(/^daemonset\.apps\/svcbgp (created|configured|unchanged)$/m);
    await cp.kubectlOk(['wait', '--for', 'condition=Established', '--timeout=60s', 'crd/bgppeers.svcbgp.io', 'crd/bgpconfigurations.svcbgp.io']);

    // The real DaemonSet controller creates a Pod per Node; the simulator runs them on the host network.
    const ds = await waitFor('DaemonSet svcbgp: 3 of 3 ready', async () => {
      const d = JSON.parse(await cp.kubectlOk(['get', 'daemonset', 'svcbgp', '-n', AGENT_NS, '-o', 'json'])) as {
        status: { desiredNumberScheduled?: number; numberReady?: number };
      };
      return d.status.desiredNumberScheduled === 3 && d.status.numberReady === 3 ? d : undefined;
    });
    expect(ds.status.numberReady).to.equal(3);
    const pods = JSON.parse(await cp.kubectlOk(['get', 'pods', '-n', AGENT_NS, '-o', 'json'])) as {
      items: { spec: { nodeName: string; hostNetwork: boolean; containers: { name: string }[] }; status: { podIP: string } }[];
    };
    const ips = Object.fromEntries(pods.items.map((p) => [p.spec.nodeName, p.status.podIP]));
    expect(ips).to.deep.equal({ 'node-1': '192.168.1.10', 'node-2': '192.168.1.11', 'node-3': '192.168.1.12' });
    expect(pods.items.every((p) => p.spec.hostNetwork && p.spec.containers.map((c) => c.name).join() === 'gobgpd,agent')).to.equal(true);

    // the ConfigMap carries the seed's documents verbatim
    const cm = await cp.kubectlOk(['get', 'configmap', 'svcbgp-config', '-n', AGENT_NS, '-o', 'jsonpath={.data.bgp\\.yaml}']);
    expect(cm).to.contain(
      'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: bgppeer-global-64512\nspec:\n  peerIP: 192.168.1.1\n  asNumber: 64512',
    );
    expect(cm).to.contain('kind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  serviceClusterIPs:\n  - cidr: 10.49.0.0/16');
  });

  it('`kubectl kustomize deploy/` renders exactly the objects of deploy/*.yaml, every container running the image of the one `images:` entry', async () => {
    const kustomization = parseYaml(readFileSync(resolve(DEPLOY(), 'Kustomization'), 'utf8')) as Kustomization;
    // every manifest -f applies is a kustomize resource too (a new file cannot be forgotten in one of the two)
    expect(kustomization.resources).to.deep.equal(
      readdirSync(DEPLOY())
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    );
    expect(kustomization.images).to.have.length(1);
    const image = `${kustomization.images[0]!.newName}:${kustomization.images[0]!.newTag}`;

    // Both read by kubectl's own YAML parser (go-yaml and the yaml package disagree on folded scalars with
    // more-indented lines, as in the CRDs' CEL rules; the API server sees what kubectl parses).
    const asKubectlReads = async (args: string[], stdin?: string): Promise<Manifest[]> =>
      jsonStream(await cluster.cp.kubectlOk(['create', '--dry-run=client', '-o', 'json', ...args], stdin));
    const rendered = byKey(await asKubectlReads(['-f', '-'], await cluster.cp.kubectlOk(['kustomize', DEPLOY()])));
    const files = byKey(await asKubectlReads(kustomization.resources.flatMap((f) => ['-f', resolve(DEPLOY(), f)])));
    expect([...rendered.keys()].sort()).to.deep.equal([...files.keys()].sort());
    const ds = rendered.get('DaemonSet/svcbgp-system/svcbgp') as unknown as DaemonSet;
    expect(ds.spec.template.spec.containers.map((c) => [c.name, c.image])).to.deep.equal([
      ['gobgpd', image],
      ['agent', image],
    ]);
    for (const c of (files.get('DaemonSet/svcbgp-system/svcbgp') as unknown as DaemonSet).spec.template.spec.containers) c.image = image;
    for (const [key, obj] of rendered) expect(obj, key).to.deep.equal(files.get(key));
  });

  it('passes `kubectl apply -k deploy/` as a server dry run; after `-f deploy/` the server already holds what -k applies (`kubectl diff -k` is empty, every object unchanged)', async () => {
    const { cp } = cluster;
    const dry = await cp.kubectl(['apply', '--dry-run=server', '-k', DEPLOY()]);
    expect(dry.stderr).to.equal('');
    expect(dry.code).to.equal(0);
    for (const obj of [
      'namespace/svcbgp-system',
      'customresourcedefinition.apiextensions.k8s.io/bgppeers.svcbgp.io',
      'clusterrole.rbac.authorization.k8s.io/svcbgp',
      'configmap/svcbgp-config',
      'daemonset.apps/svcbgp',
    ]) {
      expect(dry.stdout).to.match(new RegExp(`^${obj.replace(/\./g, '\\.')} (created|configured|unchanged) \\(server dry run\\)$`, 'm'));
    }
    // -f applied first (the test above): the two install paths give the server the same objects
    const diff = await cp.kubectl(['diff', '-k', DEPLOY()]);
    expect(diff.stdout, 'kubectl diff -k deploy/ after kubectl apply -f deploy/').to.equal('');
    expect(diff.code).to.equal(0);
    const real = await cp.kubectlOk(['apply', '-k', DEPLOY()]);
    expect(real.trim().split('\n')).to.have.length(12); // namespace, 2 CRDs, 7 RBAC objects, ConfigMap, DaemonSet
    for (const line of real.trim().split('\n')) expect(line).to.match(/ unchanged$/);
    const kustomization = parseYaml(readFileSync(resolve(DEPLOY(), 'Kustomization'), 'utf8')) as Kustomization;
    const images = await cp.kubectlOk(['get', 'daemonset', 'svcbgp', '-n', AGENT_NS, '-o', 'jsonpath={.spec.template.spec.containers[*].image}']);
    expect(images).to.equal(Array(2).fill(`${kustomization.images[0]!.newName}:${kustomization.images[0]!.newTag}`).join(' '));
  });

  it('renders the example overlay (examples/kustomize) with its image, peer, AS, CIDRs, gobgpd log level and resources — and nothing else changed; the API server accepts it (server dry run)', async () => {
    const { cp } = cluster;
    const base = byKey(parseDocs(await cp.kubectlOk(['kustomize', DEPLOY()])));
    const overlay = byKey(parseDocs(await cp.kubectlOk(['kustomize', OVERLAY()])));
    expect([...overlay.keys()].sort()).to.deep.equal([...base.keys()].sort());

    // the BGP configuration: the overlay's file, under the base's ConfigMap name (no hash suffix), and valid for the agent
    const cm = overlay.get('ConfigMap/svcbgp-system/svcbgp-config') as unknown as { data: Record<string, string> };
    expect(Object.keys(cm.data)).to.deep.equal(['bgp.yaml']);
    expect(cm.data['bgp.yaml']).to.equal(readFileSync(resolve(OVERLAY(), 'bgp.yaml'), 'utf8'));
    const parsed = parseConfig(cm.data['bgp.yaml']!);
    if (!parsed.ok) throw new Error(`the overlay's bgp.yaml is invalid: ${JSON.stringify(parsed.errors)}`);
    expect(parsed.warnings).to.deep.equal([]);
    expect(parsed.config.peers.map((p) => [p.address, p.asNumber])).to.deep.equal([['10.20.0.1', 65010]]);
    expect(parsed.config.global.asNumber).to.equal(65020);
    expect(parsed.config.global.serviceClusterIPs.map((c) => c.cidr)).to.deep.equal(['10.96.0.0/16']);
    expect(parsed.config.global.serviceExternalIPs.map((c) => c.cidr)).to.deep.equal(['203.0.113.0/24']);

    // the DaemonSet: the image, gobgpd's last --log-level, the resources; the base's commands untouched
    const ds = overlay.get('DaemonSet/svcbgp-system/svcbgp') as unknown as DaemonSet;
    const baseDs = base.get('DaemonSet/svcbgp-system/svcbgp') as unknown as DaemonSet;
    const [gobgpd, agent] = ds.spec.template.spec.containers;
    const [baseGobgpd, baseAgent] = baseDs.spec.template.spec.containers;
    expect([gobgpd!.image, agent!.image]).to.deep.equal(['registry.example.com/network/svcbgp:0.1.0', 'registry.example.com/network/svcbgp:0.1.0']);
    const argv = [...gobgpd!.command!, ...(gobgpd!.args ?? [])];
    expect(argv.slice(0, baseGobgpd!.command!.length)).to.deep.equal(baseGobgpd!.command);
    expect(argv[argv.lastIndexOf('--log-level') + 1]).to.equal('debug');
    expect(gobgpd!.resources).to.deep.equal({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } });
    expect(agent!.resources).to.deep.equal({ requests: { cpu: '100m', memory: '192Mi' }, limits: { memory: '1Gi' } });
    expect({ ...agent, image: baseAgent!.image, resources: baseAgent!.resources }).to.deep.equal(baseAgent);
    const { args: _args, ...gobgpdWithoutArgs } = gobgpd!;
    expect(baseGobgpd!.args).to.equal(undefined);
    expect({ ...gobgpdWithoutArgs, image: baseGobgpd!.image, resources: baseGobgpd!.resources }).to.deep.equal(baseGobgpd);
    for (const [key, obj] of overlay) {
      if (key === 'ConfigMap/svcbgp-system/svcbgp-config' || key === 'DaemonSet/svcbgp-system/svcbgp') continue;
      expect(obj, key).to.deep.equal(base.get(key));
    }

    const dry = await cp.kubectl(['apply', '--dry-run=server', '-k', OVERLAY()]);
    expect(dry.stderr).to.equal('');
    expect(dry.code).to.equal(0);
    expect(dry.stdout).to.match(/^configmap\/svcbgp-config configured \(server dry run\)$/m);
    expect(dry.stdout).to.match(/^daemonset\.apps\/svcbgp configured \(server dry run\)$/m);
  });

  it("accepts the seed configuration as svcbgp.io resources (and the article's empty serviceClusterIPs:) and the peerIP forms Calico allows", async () => {
    const { cp } = cluster;
    expect(await cp.kubectlOk(['apply', '-f', '-'], peer('bgppeer-global-64512', { peerIP: '192.168.1.1', asNumber: 64512 }))).to.match(
      /^bgppeer\.svcbgp\.io\/bgppeer-global-64512 (created|configured|unchanged)$/m,
    );
    expect(await cp.kubectlOk(['apply', '-f', '-'], bgpConfig('default', { serviceClusterIPs: [{ cidr: '10.49.0.0/16' }] }))).to.match(
      /^bgpconfiguration\.svcbgp\.io\/default (created|configured|unchanged)$/m,
    );
    // the article's second BGPConfiguration, as YAML with the empty key
    const second =
      'apiVersion: svcbgp.io/v1alpha1\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  serviceClusterIPs:\n  serviceExternalIPs:\n  - cidr: 192.168.3.0/24\n';
    expect(await cp.kubectlOk(['apply', '--dry-run=server', '-f', '-'], second)).to.contain('configured (server dry run)');
    for (const ip of ['192.168.1.1:179', '2001:db8::1', '[2001:db8::1]:179', '[2001:db8::1]']) {
      const r = await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], peer('forms', { peerIP: ip, asNumber: 65001 }));
      expect(r.stderr, ip).to.equal('');
      expect(r.code, ip).to.equal(0);
    }
    // Timers and BFD: Calico's keepaliveTime and failureDetectionMode, svcbgp's holdTime and bfd block.
    const timed = peer('timed', {
      peerIP: '192.168.1.2',
      asNumber: 64512,
      keepaliveTime: '3s',
      holdTime: '9s',
      failureDetectionMode: 'BFDIfDirectlyConnected',
      bfd: { minimumRecvInterval: '300ms', minimumSendInterval: '300ms', multiplier: 3 },
    });
    expect(await cp.kubectlOk(['apply', '--dry-run=server', '-f', '-'], timed)).to.contain('(server dry run)');
    // Every Calico field (docs/calico-fields.md) is admitted and kept: a field the schema lacked would be pruned, i.e.
    // ignored in silence. A server dry run returns the object as it would be stored.
    const everyPeerField = {
      peerIP: '192.168.1.3',
      asNumber: 64513,
      node: 'node-1',
      localASNumber: 65001,
      keepOriginalNextHop: false,
      nextHopMode: 'Self',
      password: { secretKeyRef: { name: 's', key: 'k' } },
      sourceAddress: 'UseNodeIP',
      maxRestartTime: '120s',
      keepaliveTime: '3s',
      numAllowedLocalASNumbers: 1,
      ttlSecurity: 1,
      reachableBy: '192.168.1.254',
      filters: [],
      reversePeering: 'Auto',
      restartMode: 'GracefulRestart',
      birdGatewayMode: 'Recursive',
      failureDetectionMode: 'None',
    };
    const storedPeer = JSON.parse(await cp.kubectlOk(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], peer('calico-fields', everyPeerField))) as {
      spec: Record<string, unknown>;
    };
    expect(storedPeer.spec).to.deep.equal(everyPeerField);
    const everyConfigField = {
      logSeverityScreen: 'Info',
      nodeToNodeMeshEnabled: false,
      asNumber: 64512,
      serviceLoadBalancerIPs: [{ cidr: '192.168.4.0/24' }],
      serviceExternalIPs: [{ cidr: '192.168.3.0/24' }],
      serviceClusterIPs: [{ cidr: '10.49.0.0/16' }],
      serviceLoadBalancerAggregation: 'Disabled',
      communities: [{ name: 'a', value: '64512:100' }],
      prefixAdvertisements: [{ cidr: '10.49.0.0/16', communities: ['a'] }],
      listenPort: 179,
      nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } },
      nodeMeshMaxRestartTime: '120s',
      bindMode: 'NodeIP',
      ignoredInterfaces: ['eth9'],
      localWorkloadPeeringIPV4: '169.254.0.179',
      localWorkloadPeeringIPV6: 'fe80::179',
      programClusterRoutes: 'Enabled',
      ipv4NormalRoutePriority: 1024,
      ipv6NormalRoutePriority: 1024,
    };
    const storedConfig = JSON.parse(await cp.kubectlOk(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], bgpConfig('default', everyConfigField))) as {
      spec: Record<string, unknown>;
    };
    expect(storedConfig.spec).to.deep.equal(everyConfigField);
    const table = await cp.kubectlOk(['get', 'bgppeers']);
    expect(table).to.match(/bgppeer-global-64512\s+192\.168\.1\.1\s+64512/);
  });

  // Each bad input and the words the API server answers with (the CRD schema's rule or message).
  const rejected: [string, string, string][] = [
    [
      'AS number 0',
      peer('bad', { peerIP: '192.168.1.1', asNumber: 0 }),
      'spec.asNumber: Invalid value: 0: spec.asNumber in body should be greater than or equal to 1',
    ],
    ['AS number above 32 bits', peer('bad', { peerIP: '192.168.1.1', asNumber: 4294967296 }), 'should be less than or equal to 4294967295'],
    [
      'peerIP not an address',
      peer('bad', { peerIP: '192.168.1.300', asNumber: 64512 }),
      'spec.peerIP: Invalid value: "192.168.1.300": must be an IP address, optionally with a port 1-65535: 192.168.1.1, 192.168.1.1:179, 2001:db8::1 or [2001:db8::1]:179',
    ],
    ['peerIP port out of range', peer('bad', { peerIP: '192.168.1.1:70000', asNumber: 64512 }), 'must be an IP address, optionally with a port 1-65535'],
    ['peerIP missing', peer('bad', { asNumber: 64512 }), 'spec.peerIP: Required value'],
    [
      'node and nodeSelector together',
      peer('bad', { peerIP: '192.168.1.1', asNumber: 64512, node: 'node-1', nodeSelector: "rack == 'a'" }),
      'set at most one of node and nodeSelector',
    ],
    [
      'keepaliveTime not a duration',
      peer('bad', { peerIP: '192.168.1.1', asNumber: 64512, keepaliveTime: '30 seconds' }),
      'spec.keepaliveTime in body should match',
    ],
    ['holdTime not a duration', peer('bad', { peerIP: '192.168.1.1', asNumber: 64512, holdTime: 9 }), 'spec.holdTime: Invalid value: "integer"'],
    [
      "failureDetectionMode not one of Calico's values",
      peer('bad', { peerIP: '192.168.1.1', asNumber: 64512, failureDetectionMode: 'BFD' }),
      'spec.failureDetectionMode: Unsupported value: "BFD": supported values: "None", "BFDIfDirectlyConnected"',
    ],
    [
      'a BFD multiplier of 1',
      peer('bad', { peerIP: '192.168.1.1', asNumber: 64512, bfd: { multiplier: 1 } }),
      'spec.bfd.multiplier in body should be greater than or equal to 2',
    ],
    ['a misspelt field', peer('bad', { peerIp: '192.168.1.1', asNumber: 64512 }), 'unknown field "spec.peerIp"'],
    [
      'a host address as a CIDR',
      bgpConfig('bad', { serviceClusterIPs: [{ cidr: '10.49.0.1/16' }] }),
      'spec.serviceClusterIPs[0].cidr: Invalid value: "10.49.0.1/16": has host bits set; give the network address (e.g. 10.49.0.0/16, not 10.49.0.1/16)',
    ],
    [
      'not a CIDR',
      bgpConfig('bad', { serviceExternalIPs: [{ cidr: '192.168.3.0/33' }] }),
      'spec.serviceExternalIPs[0].cidr: Invalid value: "192.168.3.0/33": must be a CIDR such as 10.49.0.0/16',
    ],
    [
      'an IPv6 host address as a CIDR',
      bgpConfig('bad', { serviceLoadBalancerIPs: [{ cidr: 'fd00::1/64' }] }),
      'spec.serviceLoadBalancerIPs[0].cidr: Invalid value: "fd00::1/64": has host bits set',
    ],
    [
      'a prefixAdvertisements CIDR',
      bgpConfig('bad', { prefixAdvertisements: [{ cidr: '10.49.0.0', communities: ['65000:1'] }] }),
      'spec.prefixAdvertisements[0].cidr: Invalid value: "10.49.0.0": must be a CIDR',
    ],
    ['listenPort 0', bgpConfig('bad', { listenPort: 0 }), 'spec.listenPort in body should be greater than or equal to 1'],
    ['listenPort 65536', bgpConfig('bad', { listenPort: 65536 }), 'spec.listenPort in body should be less than or equal to 65535'],
    ['community value', bgpConfig('bad', { communities: [{ name: 'x', value: '65000' }] }), 'spec.communities[0].value in body should match'],
    [
      'ttlSecurity above 255',
      peer('bad', { peerIP: '192.168.1.1', asNumber: 64512, ttlSecurity: 256 }),
      'spec.ttlSecurity in body should be less than or equal to 255',
    ],
    [
      "serviceLoadBalancerAggregation not one of Calico's values",
      bgpConfig('bad', { serviceLoadBalancerAggregation: 'disabled' }),
      'spec.serviceLoadBalancerAggregation: Unsupported value: "disabled": supported values: "Enabled", "Disabled"',
    ],
    [
      "bindMode not one of Calico's values",
      bgpConfig('bad', { bindMode: 'nodeIP' }),
      'spec.bindMode: Unsupported value: "nodeIP": supported values: "None", "NodeIP"',
    ],
  ];
  for (const [name, doc, message] of rejected) {
    it(`rejects ${name} with "${message.slice(0, 60)}…"`, async () => {
      const r = await cluster.cp.kubectl(['apply', '-f', '-'], doc);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.contain(message);
    });
  }

  it('lets the agent, authenticated by the svcbgp ServiceAccount token, list+watch Services, EndpointSlices, Nodes, BGPPeers and BGPConfigurations, create Events, get its Secret, write Service status and hold its Lease — and nothing more', async () => {
    const { cp, ns } = cluster;
    const token = (await cp.kubectlOk(['create', 'token', 'svcbgp', '-n', AGENT_NS, '--duration', '10m'])).trim();
    const kc = cp.kubeConfigForToken(token, 'svcbgp-agent');
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);

    // list + watch, through informers, exactly like the agent
    const informers = [
      makeInformer(kc, '/api/v1/services', () => core.listServiceForAllNamespaces()),
      makeInformer(kc, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces()),
      makeInformer(kc, '/api/v1/nodes', () => core.listNode()),
      makeInformer(
        kc,
        '/apis/svcbgp.io/v1alpha1/bgppeers',
        async () =>
          (await custom.listClusterCustomObject({ group: 'svcbgp.io', version: 'v1alpha1', plural: 'bgppeers' })) as {
            items: KubernetesObject[];
          } & KubernetesObject,
      ),
      makeInformer(
        kc,
        '/apis/svcbgp.io/v1alpha1/bgpconfigurations',
        async () =>
          (await custom.listClusterCustomObject({ group: 'svcbgp.io', version: 'v1alpha1', plural: 'bgpconfigurations' })) as {
            items: KubernetesObject[];
          } & KubernetesObject,
      ),
    ] as const;
    const errors: unknown[] = [];
    for (const inf of informers) {
      (inf as { on(v: 'error', cb: (e: unknown) => void): void }).on('error', (e) => errors.push(e));
      await inf.start();
    }
    try {
      // the lists worked; now changes made by the admin arrive over the watches
      await cp.kubectlOk(['create', 'service', 'clusterip', 'rbac-probe', '-n', ns, '--tcp=80:80']);
      await cp.kubectlOk(['apply', '-f', '-'], peer('rbac-probe', { peerIP: '192.168.1.2', asNumber: 64513 }));
      await waitFor(
        'watched Service, EndpointSlice and BGPPeer',
        async () =>
          informers[0].get('rbac-probe', ns) !== undefined &&
          informers[1].list(ns).some((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === 'rbac-probe') &&
          informers[3].list().some((p) => p.metadata?.name === 'rbac-probe'),
      );
      expect(
        informers[2]
          .list()
          .map((n) => n.metadata!.name)
          .sort(),
      ).to.include.members(['node-1', 'node-2', 'node-3']);
      expect(informers[4].list().map((c) => c.metadata!.name)).to.include('default');
      expect(errors).to.deep.equal([]);
    } finally {
      for (const inf of informers) await inf.stop();
    }
    // get its own Node
    expect((await core.readNode({ name: 'node-2' })).metadata!.name).to.equal('node-2');

    // an Event about a refused address
    const ev = await core.createNamespacedEvent({
      namespace: ns,
      body: {
        metadata: { generateName: 'rbac-probe.' },
        involvedObject: { kind: 'Service', namespace: ns, name: 'rbac-probe', apiVersion: 'v1' },
        reason: 'ExternalIPRefused',
        message: 'probe',
        type: 'Warning',
        source: { component: 'svcbgp' },
      },
    });
    expect(ev.metadata!.name).to.match(/^rbac-probe\./);

    // the BGP password Secret in its own namespace — and no other Secret
    await cp.kubectlOk(['create', 'secret', 'generic', 'bgp-passwords', '-n', AGENT_NS, '--from-literal=tor=s3cret']);
    await cp.kubectlOk(['create', 'secret', 'generic', 'bgp-passwords', '-n', ns, '--from-literal=tor=s3cret']);
    const secret = await core.readNamespacedSecret({ name: 'bgp-passwords', namespace: AGENT_NS });
    expect(Buffer.from(secret.data!['tor']!, 'base64').toString()).to.equal('s3cret');
    await expectForbidden(() => core.readNamespacedSecret({ name: 'bgp-passwords', namespace: ns }));
    await expectForbidden(() => core.listNamespacedSecret({ namespace: AGENT_NS }));
    // read-only towards Services and Nodes
    await expectForbidden(() => core.deleteNamespacedService({ name: 'rbac-probe', namespace: ns }));
    await expectForbidden(() => core.patchNode({ name: 'node-1', body: {} }));

    // the allocator: a Service's status (the allocator's own client and request), never its spec
    const agentClient = new KubeClient(loadKubeConfig(cp.writeKubeconfigForToken(token, 'svcbgp-agent')).target);
    const probeRv = await cp.kubectlOk(['get', 'service', 'rbac-probe', '-n', ns, '-o', 'jsonpath={.metadata.resourceVersion}']);
    const patched = (await agentClient.patch(`/api/v1/namespaces/${ns}/services/rbac-probe/status`, {
      metadata: { resourceVersion: probeRv },
      status: {
        conditions: [
          {
            type: 'svcbgp.io/AssignedAddresses',
            status: 'True',
            reason: 'Assigned',
            message: 'assigned by svcbgp: 192.0.2.1',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      },
    })) as V1Service;
    expect(patched.status?.conditions?.map((c) => c.type)).to.deep.equal(['svcbgp.io/AssignedAddresses']);
    await expectForbidden(() => agentClient.patch(`/api/v1/namespaces/${ns}/services/rbac-probe`, { metadata: { labels: { x: 'y' } } }));
    // its Lease, in its own namespace only
    const elector = new LeaseElector({ client: agentClient, namespace: AGENT_NS, name: 'svcbgp-allocator', identity: 'rbac-probe', log: silentLogger() });
    await elector.tick();
    expect(elector.isLeader()).to.equal(true);
    await elector.tick(); // a renewal: get + update
    expect(elector.isLeader()).to.equal(true);
    await elector.stop({ release: true });
    await expectForbidden(() => agentClient.get(`/apis/coordination.k8s.io/v1/namespaces/${AGENT_NS}/leases/other`));
    await expectForbidden(() => agentClient.post(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, { metadata: { name: 'svcbgp-allocator' } }));

    const kcfg = cp.writeKubeconfigForToken(token, 'svcbgp-agent');
    for (const [verb, res, want] of [
      ['watch', 'services', 'yes'],
      ['list', 'endpointslices.discovery.k8s.io', 'yes'],
      ['watch', 'bgpconfigurations.svcbgp.io', 'yes'],
      ['create', 'events', 'yes'],
      ['update', 'services', 'no'],
      ['patch', 'services --subresource=status', 'yes'],
      ['update', 'services --subresource=status', 'yes'],
      ['patch', 'services', 'no'],
      ['delete', 'leases.coordination.k8s.io', 'no'],
      ['list', 'leases.coordination.k8s.io', 'no'],
      ['get', 'secrets', 'no'],
    ] as const) {
      const r = await cp.kubectl(['auth', 'can-i', verb, ...res.split(' '), '-A'], undefined, { kubeconfig: kcfg });
      expect(r.stdout.trim(), `${verb} ${res}`).to.equal(want);
    }
  });

  it("fails the agent's watch when its role lacks the `watch` verb on Services (the RBAC test can fail)", async () => {
    const { cp } = cluster;
    // the same ClusterRole minus `watch` on services, bound to another ServiceAccount
    const role = JSON.parse(await cp.kubectlOk(['get', 'clusterrole', 'svcbgp', '-o', 'json'])) as { rules: { resources: string[]; verbs: string[] }[] };
    const rules = role.rules.map((r) => (r.resources.includes('services') ? { ...r, verbs: r.verbs.filter((v) => v !== 'watch') } : r));
    await cp.kubectlOk(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'svcbgp-nowatch', namespace: AGENT_NS } },
          { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'svcbgp-nowatch' }, rules },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            metadata: { name: 'svcbgp-nowatch' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'svcbgp-nowatch' },
            subjects: [{ kind: 'ServiceAccount', name: 'svcbgp-nowatch', namespace: AGENT_NS }],
          },
        ],
      }),
    );
    const token = (await cp.kubectlOk(['create', 'token', 'svcbgp-nowatch', '-n', AGENT_NS, '--duration', '10m'])).trim();
    const kc: KubeConfig = cp.kubeConfigForToken(token, 'svcbgp-nowatch');
    // list still works…
    const core = kc.makeApiClient(CoreV1Api);
    expect((await core.listServiceForAllNamespaces()).items.length).to.be.greaterThan(0);
    // …but the watch is refused with 403
    const err = await new Promise<Error & { statusCode?: number }>((resolveErr) => {
      void new Watch(kc).watch(
        '/api/v1/services',
        {},
        () => undefined,
        (e: unknown) => resolveErr(e as Error & { statusCode?: number }),
      );
    });
    expect(err.statusCode).to.equal(403);
    const kcfg = cp.writeKubeconfigForToken(token, 'svcbgp-nowatch');
    const r = await cp.kubectl(['auth', 'can-i', 'watch', 'services', '-A'], undefined, { kubeconfig: kcfg });
    expect(r.stdout.trim()).to.equal('no');
    await cp.kubectlOk(['delete', 'serviceaccount', 'svcbgp-nowatch', '-n', AGENT_NS]);
  });
});

async function expectForbidden(call: () => Promise<unknown>): Promise<void> {
  let code: number | undefined;
  try {
    await call();
  } catch (e) {
    code = (e as { code?: number }).code;
  }
  expect(code, 'HTTP status of a call the role must not allow').to.equal(403);
}

interface Kustomization {
  resources: string[];
  images: { name: string; newName: string; newTag: string }[];
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  resources?: unknown;
}

interface DaemonSet {
  spec: { template: { spec: { containers: Container[] } } };
}

type Manifest = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };

function parseDocs(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

/** kind/namespace/name -> object */
function byKey(docs: Manifest[]): Map<string, Manifest> {
  return new Map(docs.map((d) => [`${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`, d]));
}

/** kubectl -o json prints one pretty-printed object after another; each ends with a "}" alone on its line. */
function jsonStream(text: string): Manifest[] {
  return text
    .split(/^\}$/m)
    .filter((t) => t.trim() !== '')
    .map((t) => JSON.parse(`${t}}`) as Manifest);
}
