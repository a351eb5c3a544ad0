/**
 * `svcbgp run` with weightedECMP and serviceAttributeLimits against a REAL API server (Pods played by the node
 * simulator, the one stand-in) and a REAL gobgpd: the link bandwidth follows the Deployment's scale on this node, an
 * allowed annotation reaches gobgpd, a value outside the allow-list is refused with a Warning Event and a metric.
 * What is asserted is what an operator checks: `gobgp global rib -j`, `kubectl get events`, /metrics. The time from
 * `kubectl scale` to the new value in gobgpd is printed, never asserted.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useCluster } from '../../helpers/kube/index.js';
import { freePort, waitFor } from '../../helpers/gobgpd.js';
import { AgentProcess, RestartableGobgpd, httpGet, loopbackAgentConfig, metricValue } from './util.js';

const NODE = `weighted-a-${process.pid}`;

interface CliAttr {
  type: number;
  value?: { subtype: number; bandwidth?: number }[];
  communities?: number[];
}

describe('svcbgp run: weighted ECMP and Service attributes against a real API server and gobgpd', function () {
  this.timeout(120_000);
  const cluster = useCluster({ nodes: [{ name: NODE, internalIP: '192.168.1.10' }], namespacePrefix: 'svcbgp-weighted' });
  let dir: string;
  let gobgpd: RestartableGobgpd;
  let agent: AgentProcess;
  let httpAddress: string;
  const apply = (yaml: string) => cluster.cp.kubectlOk(['-n', cluster.ns, 'apply', '-f', '-'], yaml);
  const kubectl = (...args: string[]) => cluster.cp.kubectlOk(['-n', cluster.ns, ...args]);
  const hostAttrs = async (): Promise<CliAttr[] | undefined> =>
    (JSON.parse(await gobgpd.cli('global', 'rib', '-j')) as Record<string, { attrs: CliAttr[] }[]>)['192.168.3.180/32']?.[0]?.attrs;
  const bandwidthOf = (attrs: CliAttr[] | undefined) => attrs?.find((a) => a.type === 16)?.value?.find((v) => v.subtype === 4)?.bandwidth;
  const waitBandwidth = (want: number) =>
    waitFor(`link bandwidth ${want}`, async () => (bandwidthOf(await hostAttrs()) === want ? true : undefined), 30_000, 50).catch((e: unknown) => {
      throw new Error(`${String(e)}\n--- agent ---\n${agent.rawOutput().slice(-6000)}`);
    });

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-weighted-'));
    gobgpd = new RestartableGobgpd('weighted-kube');
    await gobgpd.start();
    const config = path.join(dir, 'bgp.yaml');
    writeFileSync(
      config,
      `${loopbackAgentConfig({ peerPort: await freePort(), listenPort: await freePort(), serviceExternalIPs: ['192.168.3.0/24'] })}  weightedECMP: {enabled: true}
  serviceAttributeLimits: {communities: ["64512:100-199"]}
`,
    );
    httpAddress = `127.0.0.1:${await freePort()}`;
    agent = new AgentProcess([
      '--node-name',
      NODE,
      '--gobgp-address',
      gobgpd.address,
      '--kubeconfig',
      cluster.cp.kubeconfig,
      '--config',
      config,
      '--http-address',
      httpAddress,
      '--gobgp-probe-interval',
      '500ms',
      '--debounce',
      '100ms',
      '--namespace',
      cluster.ns,
      '--no-custom-resources',
    ]);
    agent.start();
  });

  after(async function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`--- agent output (tail) ---\n${agent?.rawOutput().slice(-8000)}\n`);
    await agent?.dispose();
    await gobgpd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('3 local Pods: link bandwidth 375,000 bytes/s and the allowed community; kubectl scale to 1 and 2 follows; the disallowed value is an Event', async () => {
    await apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {kubernetes.io/hostname: ${NODE}}
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations: {svcbgp.io/communities: "64512:150, 64512:999"}
spec:
  selector: {app: web}
  ports: [{port: 80}]
  type: NodePort
  externalTrafficPolicy: Local
  externalIPs: [192.168.3.180]
`);
    await waitBandwidth(375_000);
    expect((await hostAttrs())!.find((a) => a.type === 8)?.communities).to.deep.equal([64512 * 65536 + 150]);

    for (const [replicas, want] of [
      [1, 125_000],
      [2, 250_000],
    ] as const) {
      const t0 = Date.now();
      await kubectl('scale', 'deployment', 'web', `--replicas=${replicas}`);
      await waitBandwidth(want);
      process.stdout.write(`      [metric] kubectl scale --replicas=${replicas} to link bandwidth ${want} in gobgpd: ${Date.now() - t0} ms\n`);
    }

    const events = await waitFor(
      'an Event on Service web',
      async () => {
        const out = await kubectl('get', 'events', '--field-selector', 'involvedObject.kind=Service,involvedObject.name=web,source=svcbgp', '-o', 'json');
        const items = (JSON.parse(out) as { items: { reason: string; message: string; type: string }[] }).items;
        return items.length > 0 ? items : undefined;
      },
      30_000,
    );
    // Its own reason (not a foreign address's AddressNotAdvertised), one Event, naming the annotation, the value, the
    // allow-list and the field an operator changes to allow it.
    expect(events.map((e) => [e.type, e.reason])).to.deep.equal([['Warning', 'AttributeNotAllowed']]);
    expect(events[0]!.message)
      .to.contain('community 64512:999 in annotation svcbgp.io/communities')
      .and.to.contain('outside serviceAttributeLimits.communities (64512:100-199)')
      .and.to.contain('add it to spec.serviceAttributeLimits.communities');
    const metrics = (await httpGet(httpAddress, '/metrics')).body;
    expect(metricValue(metrics, 'svcbgp_refused_addresses', { reason: 'attribute-not-allowed' })).to.equal(1);
  });
});
