/**
 * Weighted ECMP and per-Service attributes through the whole agent core against a REAL gobgpd (SVCBGP_GOBGPD's
 * version): the configuration parsed, computeDesired over Services and EndpointSlices, the reconciler, the codec.
 * Asserted: what `gobgp global rib -j` shows (the link-bandwidth extended community, the Service's community), that
 * a scale is one AddPath and no DeletePath, and that an unchanged cluster — or a restarted agent — sends nothing
 * (the float32 value read back from gobgpd compares equal to the desired one).
 */
import { expect } from 'chai';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { connectGobgp } from '../../../src/gobgp/client.js';
import type { GobgpClient } from '../../../src/gobgp/types.js';
import { Reconciler, fixedInputs, type Inputs } from '../../../src/agent/reconciler.js';
import { speakerOverClient } from '../../helpers/gobgpd-speaker.js';
import { computeDesired } from '../../../src/agent/desired-state.js';
import { AgentMetrics } from '../../../src/http/metrics.js';
import { parseConfig } from '../../../src/config/index.js';
import type { SpeakerConfig } from '../../../src/model/peer.js';
import { freePort } from '../../helpers/gobgpd.js';
import { RestartableGobgpd, memoryLogger } from './util.js';

const CONFIG = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  serviceExternalIPs:
  - cidr: 192.168.3.0/24
  weightedECMP:
    enabled: true
  serviceAttributeLimits:
    communities: ["64512:100-199"]
`;

const NODE: V1Node = { metadata: { name: 'node-2' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.1.11' }] } };
const SVC: V1Service = {
  metadata: { name: 'web', namespace: 'default', uid: 'u1', annotations: { 'svcbgp.io/communities': '64512:150 64512:999' } },
  spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', externalIPs: ['192.168.3.180'], externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
};
function slice(endpointsOnNode2: number): V1EndpointSlice {
  return {
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: endpointsOnNode2 }, (_, i) => ({ addresses: [`10.48.2.${i + 1}`], nodeName: 'node-2', conditions: { ready: true } })),
  };
}

interface CliAttr {
  type: number;
  value?: { type: number; subtype: number; asn?: number; bandwidth?: number }[];
  communities?: number[];
}
type CliRib = Record<string, { attrs: CliAttr[] }[]>;

describe('weighted ECMP and Service attributes: agent core against real gobgpd', function () {
  this.timeout(60_000);
  let gobgpd: RestartableGobgpd;
  let speaker: SpeakerConfig;
  const clients: GobgpClient[] = [];

  before(async () => {
    gobgpd = new RestartableGobgpd('weighted');
    await gobgpd.start();
    speaker = {
      asn: 64512,
      routerId: '10.255.0.2',
      listenPort: -1,
      peers: [{ address: '127.0.0.2', asn: 64512, port: await freePort('127.0.0.1'), gracefulRestart: { enabled: true, restartTime: 120 } }],
    };
  });
  after(async () => {
    for (const c of clients) c.close();
    await gobgpd.stop();
  });

  const config = (() => {
    const r = parseConfig(CONFIG);
    if (!r.ok) throw new Error(r.errors.map((e) => e.text).join('\n'));
    return r.config;
  })();

  function agent(inputs: Inputs): { reconciler: Reconciler; metrics: AgentMetrics; adds: () => Promise<number>; deletes: () => Promise<number> } {
    const { log } = memoryLogger();
    const metrics = new AgentMetrics(false);
    const client = connectGobgp(`unix://${gobgpd.socket}`, { deadlineMs: 5000 });
    clients.push(client);
    const reconciler = new Reconciler({ speaker: speakerOverClient(client, { log, metrics }), inputs: fixedInputs(() => inputs), log, metrics });
    const count = async (op: string): Promise<number> => (await metrics.pathChanges.get()).values.find((v) => v.labels.op === op)?.value ?? 0;
    return { reconciler, metrics, adds: () => count('add'), deletes: () => count('delete') };
  }

  async function hostPathAttrs(): Promise<CliAttr[]> {
    const rib = JSON.parse(await gobgpd.cli('global', 'rib', '-j')) as CliRib;
    return rib['192.168.3.180/32']?.[0]?.attrs ?? [];
  }
  const bandwidth = (attrs: CliAttr[]) => attrs.find((a) => a.type === 16)?.value?.find((v) => v.subtype === 4);

  it('3 local endpoints: gobgpd holds the link bandwidth (non-transitive, 375,000 bytes/s) and only the allowed community', async () => {
    const inputs: Inputs = { synced: true, connected: true, speaker, desired: computeDesired(config, NODE, [SVC], [slice(3)]) };
    const a = agent(inputs);
    expect(await a.reconciler.pass(new Set(['test']))).to.equal('done');
    const attrs = await hostPathAttrs();
    expect(bandwidth(attrs)).to.deep.include({ type: 64, subtype: 4, asn: 64512, bandwidth: 375000 });
    expect(attrs.find((a) => a.type === 8)?.communities).to.deep.equal([64512 * 65536 + 150]);
    expect(inputs.desired!.refused.map((r) => [r.code, r.address])).to.deep.equal([['attribute-not-allowed', '64512:999']]);

    // Unchanged cluster: nothing is sent again (the float read back equals the desired value).
    const before = await a.adds();
    await a.reconciler.pass(new Set(['test']));
    expect(await a.adds()).to.equal(before);

    // A scale to 5: one AddPath that replaces the path, no DeletePath.
    inputs.desired = computeDesired(config, NODE, [SVC], [slice(5)]);
    await a.reconciler.pass(new Set(['test']));
    expect(await a.adds()).to.equal(before + 1);
    expect(await a.deletes()).to.equal(0);
    expect(bandwidth(await hostPathAttrs())).to.deep.include({ bandwidth: 625000 });

    // A restarted agent adopts the paths as they are: no AddPath, no DeletePath.
    const b = agent({ ...inputs });
    expect(await b.reconciler.pass(new Set(['test']))).to.equal('done');
    expect(await b.adds()).to.equal(0);
    expect(await b.deletes()).to.equal(0);
  });
});
