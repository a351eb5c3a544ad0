/**
 * `svcbgp status`, whole outputs as golden files (test/golden/status/*.golden). The report is built the way the agent
 * and the command build it, minus the two transports: the seed article's configuration and cluster dump
 * (test/fixtures/seed/) go through the route model and the reconciler (against the in-memory gobgpd of
 * test/helpers/memory-speaker.ts), the reconciler's snapshot becomes the agent's /status document (agentStatus), and
 * the in-memory gobgpd is read as `svcbgp status` reads a real one (readGobgpd). Every clock is fixed: the times
 * printed are the scenario's, the same on every run. SVCBGP_UPDATE_GOLDEN=1 rewrites the files
 * (docs/testing.md#golden-files).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Node } from '@kubernetes/client-node';
import { parseClusterDump } from '../../../src/cli/explain.js';
import { formatStatus, joinReasons, readGobgpd, type StatusReport } from '../../../src/cli/status.js';
import { parseConfig, speakerConfigForNode, type BgpConfig } from '../../../src/config/index.js';
import { leavingReason } from '../../../src/config/departure.js';
import { computeDesired } from '../../../src/agent/desired-state.js';
import { Reconciler, fixedInputs, type Inputs } from '../../../src/agent/reconciler.js';
import { agentStatus } from '../../../src/agent/status-report.js';
import { provisionGlobal } from '../../../src/gobgp/provision.js';
import type { GobgpClient, Neighbor, RibPath } from '../../../src/gobgp/index.js';
import type { NodePeer } from '../../../src/config/index.js';
import { expectGolden, repoRoot } from '../../helpers/golden.js';
import { capturingLogger } from '../../helpers/log.js';
import { MemorySpeaker } from '../../helpers/memory-speaker.js';

const ROOT = repoRoot();
const fixture = (path: string): string => readFileSync(join(ROOT, 'test/fixtures/seed', path), 'utf8');

/** The scenario's clock: the agent started at 05:00, the ToR session came up at 05:00:05, status is asked at 06:02:05. */
const STARTED = Date.parse('2026-12-02T05:00:00.000Z');
const SESSION_UP = Date.parse('2026-12-02T05:00:05.000Z');
const NOW = Date.parse('2026-12-02T06:02:05.000Z');
const VERSION = '0.1.0';
const GOBGP_ADDRESS = 'unix:///run/gobgp/gobgp.sock';
const AGENT_ADDRESS = '127.0.0.1:9479';

/** node-2 of the seed article (192.168.1.11): nginx runs here. */
function seedNode(labels: Record<string, string> = {}): V1Node {
  return { metadata: { name: 'node-2', labels }, status: { addresses: [{ type: 'InternalIP', address: '192.168.1.11' }] } };
}

function seedConfig(file: string): BgpConfig {
  const parsed = parseConfig(fixture(file));
  if (!parsed.ok) throw new Error(`${file}: ${parsed.errors.map((e) => e.text).join('; ')}`);
  return parsed.config;
}

/** The inputs an agent reads with every cache synced: speaker configuration and desired state of the seed cluster. */
function syncedInputs(config: BgpConfig, node: V1Node): Inputs {
  const dump = parseClusterDump(fixture('cluster-dump.yaml'));
  return {
    synced: true,
    connected: true,
    speaker: speakerConfigForNode(config, node, '192.168.1.11'),
    desired: computeDesired(config, node, dump.services, dump.endpointSlices),
  };
}

/**
 * gobgpd as the agent's provisioning and `svcbgp status` read it (GetBgp, StartBgp, ListPeer, ListPath), answered
 * from the in-memory speaker.
 */
function gobgpdOf(speaker: MemorySpeaker, peers: readonly NodePeer[]): GobgpClient {
  const client: Pick<GobgpClient, 'address' | 'apiVersion' | 'getGlobal' | 'startBgp' | 'listPeers' | 'listPaths'> = {
    address: GOBGP_ADDRESS,
    apiVersion: 'v3',
    getGlobal: async () => speaker.started && { ...speaker.started },
    startBgp: async (g) => {
      speaker.started = { asn: g.asn, routerId: g.routerId, listenPort: g.listenPort };
    },
    listPeers: async () =>
      peers
        .filter((p) => speaker.peers.has(p.address))
        .map(
          (p): Neighbor => ({
            peer: p,
            description: 'svcbgp',
            ours: true,
            sessionState: 'established',
            adminDown: false,
            type: p.asn === speaker.started?.asn ? 'internal' : 'external',
            uptime: new Date(SESSION_UP),
            flaps: 0,
            mpGracefulRestart: p.gracefulRestart.enabled,
            localRestarting: false,
            bfdSupported: false,
          }),
        ),
    listPaths: async (family) =>
      [...speaker.paths.values()]
        .filter((r) => r.family === family)
        .map((route): RibPath => ({ route, local: true, best: true, age: new Date(SESSION_UP), stale: false, asPath: [], withdrawn: false })),
  };
  return client as GobgpClient;
}

interface Scenario {
  speaker: MemorySpeaker;
  reconciler: Reconciler;
  /** The peers the node's configuration asks for (gobgpd's ListPeer answers with these). */
  peers: readonly NodePeer[];
  /** Readiness checks as the agent derives them from the reconciler (src/agent/agent.ts). */
  configValid: boolean;
}

function scenario(passesInputs: () => Inputs, config: BgpConfig, node: V1Node, now: { ms: number }): Scenario {
  const speaker = new MemorySpeaker();
  const peers = speakerConfigForNode(config, node, '192.168.1.11').peers as NodePeer[];
  const { log } = capturingLogger();
  // The global settings are compared as the agent compares them (the conflict's differences and message are real).
  // The real provisioning decides (and words a conflict); the in-memory speaker learns the AS gobgpd runs from its own
  // copy, as the real speaker does, to mark paths with it.
  const learnRunningAs = speaker.provisionGlobal.bind(speaker);
  speaker.provisionGlobal = async (sc, running) => {
    await learnRunningAs(sc, running);
    return provisionGlobal(gobgpdOf(speaker, peers), sc, running, log);
  };
  const reconciler = new Reconciler({ speaker, inputs: fixedInputs(passesInputs), log, drainMs: 10_000, now: () => now.ms });
  return { speaker, reconciler, peers, configValid: true };
}

/** The status report of a scenario, as `svcbgp status` prints it at NOW. */
async function statusText(sc: Scenario): Promise<string> {
  const r = sc.reconciler.readiness();
  const checks = {
    'caches-synced': r.cachesSynced,
    'gobgpd-reachable': r.gobgpReachable,
    'gobgpd-api-matches': r.gobgpApiMatches,
    'gobgpd-provisioned': r.provisioned,
    'gobgpd-global-matches': r.globalMatches,
    'config-valid': sc.configValid,
  };
  const snapshot = sc.reconciler.snapshot();
  // A pass record carries the wall clock (start, duration): fixed here, like every other time in the report.
  const fix = <T extends { startedAt: string; durationMs: number } | undefined>(p: T): T =>
    p === undefined ? p : { ...p, startedAt: new Date(NOW - 1000).toISOString(), durationMs: 12 };
  if (snapshot.lastPass) snapshot.lastPass = fix(snapshot.lastPass);
  if (snapshot.lastError) snapshot.lastError = fix(snapshot.lastError);
  const status = agentStatus({
    node: 'node-2',
    version: VERSION,
    startedAt: new Date(STARTED),
    now: new Date(NOW),
    gobgpAddress: GOBGP_ADDRESS,
    ready: Object.values(checks).every(Boolean),
    checks,
    config: undefined,
    snapshot,
  });
  const report: StatusReport = {
    agent: { address: AGENT_ADDRESS, status },
    gobgpd: { address: GOBGP_ADDRESS, ...(await readGobgpd(gobgpdOf(sc.speaker, sc.peers), new Date(NOW))) },
  };
  return formatStatus(joinReasons(report));
}

describe('svcbgp status: golden outputs', () => {
  const now = { ms: SESSION_UP };
  beforeEach(() => {
    now.ms = SESSION_UP;
  });

  it('a healthy agent (the seed external IP range on node-2): ready, the session up, both paths with why, the cluster IP withheld', async () => {
    const config = seedConfig('config-external-ips.yaml');
    const inputs = syncedInputs(config, seedNode());
    const sc = scenario(() => inputs, config, seedNode(), now);
    await sc.reconciler.pass(new Set(['start']));
    expect([...sc.speaker.paths.values()].map((p) => p.prefix)).to.have.members(['192.168.3.0/24', '192.168.3.180/32']);
    expectGolden('status/healthy', await statusText(sc));
  });

  it('an agent waiting for its caches: gobgpd not started, not ready, the last pass says what it waits for', async () => {
    const config = seedConfig('config-cluster-ips.yaml');
    const sc = scenario(
      () => ({ synced: false, connected: true, waiting: 'caches syncing (services:syncing, endpointslices:syncing)' }),
      config,
      seedNode(),
      now,
    );
    await sc.reconciler.pass(new Set(['start']));
    expect(sc.speaker.started).to.equal(undefined);
    expectGolden('status/waiting-for-caches', await statusText(sc));
  });

  it('a leaving node (labelled exclude-from-external-load-balancers), draining: paths with GRACEFUL_SHUTDOWN until the drain time ends', async () => {
    const config = seedConfig('config-cluster-ips.yaml');
    const excluded = seedNode({ 'node.kubernetes.io/exclude-from-external-load-balancers': '' });
    let inputs = syncedInputs(config, seedNode());
    const sc = scenario(() => inputs, config, seedNode(), now);
    await sc.reconciler.pass(new Set(['start']));
    now.ms = NOW - 4000;
    const leaving = leavingReason(excluded).reason;
    expect(leaving).to.be.a('string');
    inputs = { ...syncedInputs(config, excluded), leaving: leaving! };
    await sc.reconciler.pass(new Set(['node']));
    expect([...sc.speaker.paths.values()].every((p) => p.communities.includes('65535:0'))).to.equal(true);
    expectGolden('status/leaving-draining', await statusText(sc));

    // After the drain time: every path withdrawn.
    now.ms = NOW - 4000 + 10_000;
    await sc.reconciler.pass(new Set(['drain-time']));
    expect(sc.speaker.paths.size).to.equal(0);
    expectGolden('status/leaving-withdrawn', await statusText(sc));
  });

  it('a global-settings conflict (gobgpd already runs AS 65000): not ready, paths still reconciled, marked with the running AS', async () => {
    const config = seedConfig('config-cluster-ips.yaml');
    const inputs = syncedInputs(config, seedNode());
    const sc = scenario(() => inputs, config, seedNode(), now);
    sc.speaker.started = { asn: 65000, routerId: '192.168.1.11', listenPort: 179 };
    await sc.reconciler.pass(new Set(['start']));
    expect(sc.reconciler.readiness().globalMatches).to.equal(false);
    expectGolden('status/global-conflict', await statusText(sc));
  });
});
