/**
 * The reconciler against a REAL gobgpd (Debian 3.10 or SVCBGP_GOBGPD's version, unix socket in a temp dir), through the real GoBGP client.
 * The cluster side is fed directly here (the desired routes as the route model would compute them); the
 * Kubernetes side is exercised against the real API server in agent-kube.test.ts.
 * What we assert is what an operator sees: `gobgp global rib -j`, `gobgp neighbor`, gobgpd's table events.
 */
import { expect } from 'chai';
import type { Route } from '../../../src/model/route.js';
import type { SpeakerConfig } from '../../../src/model/peer.js';
import { connectGobgp } from '../../../src/gobgp/client.js';
import type { GobgpClient, WatchHandle } from '../../../src/gobgp/types.js';
import { Reconciler, fixedInputs, type Inputs } from '../../../src/agent/reconciler.js';
import { PassScheduler } from '../../../src/agent/scheduler.js';
import { GobgpdMonitor } from '../../../src/agent/monitor.js';
import { speakerOverClient } from '../../helpers/gobgpd-speaker.js';
import type { DesiredState } from '../../../src/model/path.js';
import { AgentMetrics } from '../../../src/http/metrics.js';
import { freePort, GOBGPD_VERSION, waitFor } from '../../helpers/gobgpd.js';
import { RestartableGobgpd, memoryLogger, ribViaCli, type LogEntry } from './util.js';

const OWNER = '64512:7376:1';

function route(prefix: string, extra: Partial<Route> = {}): Route {
  const v6 = prefix.includes(':');
  return { prefix, family: v6 ? 'ipv6-unicast' : 'ipv4-unicast', nextHop: v6 ? '::' : '0.0.0.0', communities: [], largeCommunities: [], ...extra };
}

function desired(...routes: Route[]): DesiredState {
  return {
    paths: routes.map((r) => ({ route: r, kinds: ['cluster-ip-cidr'], reasons: [{ rule: 'aggregate' as const, text: `test wants ${r.prefix}` }] })),
    refused: [],
  };
}

interface Agent {
  client: GobgpClient;
  reconciler: Reconciler;
  metrics: AgentMetrics;
  entries: LogEntry[];
  inputs: Inputs;
  pass(): Promise<'done' | 'retry'>;
  changes(): Promise<{ add: number; delete: number }>;
}

async function counter(metrics: AgentMetrics, op: string): Promise<number> {
  const m = await metrics.pathChanges.get();
  return m.values.find((v) => v.labels.op === op)?.value ?? 0;
}

describe('agent reconciler against real gobgpd', function () {
  this.timeout(60_000);
  let gobgpd: RestartableGobgpd;
  let speakerConfig: SpeakerConfig;
  const agents: Agent[] = [];
  const watches: WatchHandle[] = [];
  const stops: (() => void)[] = [];

  function newAgent(inputs: Inputs): Agent {
    const { log, entries } = memoryLogger();
    const metrics = new AgentMetrics(false);
    const client = connectGobgp(gobgpd.address, { deadlineMs: 5000 });
    const speaker = speakerOverClient(client, { log, metrics });
    const reconciler = new Reconciler({ speaker, inputs: fixedInputs(() => inputs), log, metrics });
    const a: Agent = {
      client,
      reconciler,
      metrics,
      entries,
      inputs,
      pass: () => reconciler.pass(new Set(['test'])),
      changes: async () => ({ add: await counter(metrics, 'add'), delete: await counter(metrics, 'delete') }),
    };
    agents.push(a);
    return a;
  }

  beforeEach(async () => {
    gobgpd = new RestartableGobgpd();
    await gobgpd.start();
    // The peer is on loopback with a port nobody listens on: gobgpd only ever dials 127.0.0.2.
    speakerConfig = {
      asn: 64512,
      routerId: '10.255.0.1',
      listenPort: -1,
      peers: [{ address: '127.0.0.2', asn: 64512, port: await freePort('127.0.0.1'), gracefulRestart: { enabled: true, restartTime: 120 } }],
    };
  });

  afterEach(async function () {
    for (const s of stops.splice(0)) s();
    for (const w of watches.splice(0)) w.close();
    for (const a of agents.splice(0)) a.client.close();
    if (this.currentTest?.state === 'failed') process.stderr.write(`--- gobgpd log ---\n${gobgpd.log().slice(-4000)}\n`);
    await gobgpd.stop();
  });

  it('start-up converges the RIB: global config, every desired path marked with the ownership community, the peer', async () => {
    const a = newAgent({
      synced: true,
      connected: true,
      speaker: speakerConfig,
      desired: desired(route('10.49.0.0/16'), route('192.168.3.180/32'), route('fd00:49::/112')),
    });
    expect(await a.pass()).to.equal('done');

    const v4 = await ribViaCli((...x) => gobgpd.cli(...x));
    expect([...v4.keys()].sort()).to.deep.equal(['10.49.0.0/16', '192.168.3.180/32']);
    for (const p of v4.values()) expect(p.largeCommunities).to.deep.equal([OWNER]);
    const v6 = await ribViaCli((...x) => gobgpd.cli(...x), 'ipv6');
    expect([...v6.keys()]).to.deep.equal(['fd00:49::/112']);
    expect(v6.get('fd00:49::/112')!.nextHop).to.equal('::');

    const global = await gobgpd.cli('global');
    expect(global).to.match(/AS:\s+64512/);
    expect(global).to.match(/Router-ID:\s+10\.255\.0\.1/);
    expect(await gobgpd.cli('neighbor')).to.contain('127.0.0.2');
    expect(a.reconciler.readiness()).to.deep.equal({
      cachesSynced: true,
      gobgpReachable: true,
      gobgpApiMatches: true,
      gobgpApi: GOBGPD_VERSION.api,
      provisioned: true,
      globalMatches: true,
    });
    expect(await a.changes()).to.deep.equal({ add: 3, delete: 0 });
    // The reason for every add is in the logs.
    const adds = a.entries.filter((e) => e.message === 'advertise');
    expect(adds.map((e) => e.prefix).sort()).to.deep.equal(['10.49.0.0/16', '192.168.3.180/32', 'fd00:49::/112']);
    expect(adds[0]!.reasons).to.be.an('array').with.length(1);
  });

  it('a change sends only the difference: one add, one withdraw, unchanged paths untouched', async () => {
    const a = newAgent({ synced: true, connected: true, speaker: speakerConfig, desired: desired(route('10.49.0.0/16'), route('10.49.1.10/32')) });
    await a.pass();
    const before = await ribViaCli((...x) => gobgpd.cli(...x));
    a.inputs.desired = desired(route('10.49.0.0/16'), route('192.168.3.0/24'));
    await a.pass();
    const after = await ribViaCli((...x) => gobgpd.cli(...x));
    expect([...after.keys()].sort()).to.deep.equal(['10.49.0.0/16', '192.168.3.0/24']);
    expect(after.get('10.49.0.0/16')!.age).to.equal(before.get('10.49.0.0/16')!.age);
    expect(await a.changes()).to.deep.equal({ add: 3, delete: 1 });
    const withdraw = a.entries.find((e) => e.message === 'withdraw');
    expect(withdraw).to.include({ prefix: '10.49.1.10/32' });
    expect(String(withdraw!.reason)).to.contain('no longer desired');
    expect(withdraw!.previousReasons).to.deep.equal(['test wants 10.49.1.10/32']);
  });

  it('attribute changes are sent as AddPath (replace), never delete + add', async () => {
    const a = newAgent({ synced: true, connected: true, speaker: speakerConfig, desired: desired(route('10.49.0.0/16')) });
    await a.pass();
    a.inputs.desired = desired(route('10.49.0.0/16', { communities: ['64512:100'] }));
    await a.pass();
    const rib = await ribViaCli((...x) => gobgpd.cli(...x));
    expect(rib.get('10.49.0.0/16')!.communities).to.deep.equal(['64512:100']);
    expect(rib.get('10.49.0.0/16')!.largeCommunities).to.deep.equal([OWNER]);
    expect(await a.changes()).to.deep.equal({ add: 2, delete: 0 });
  });

  it("an operator's own path (gobgp global rib add) survives every pass, including drift passes", async () => {
    await new Promise((r) => setTimeout(r, 0));
    const a = newAgent({ synced: true, connected: true, speaker: speakerConfig, desired: desired(route('10.49.0.0/16')) });
    await a.pass();
    await gobgpd.cli('global', 'rib', 'add', '10.99.0.0/24');
    await gobgpd.cli('global', 'rib', 'add', '10.98.0.0/24', 'large-community', '64512:7376:2');
    a.inputs.desired = desired(route('10.50.0.0/16'));
    await a.pass();
    a.reconciler.invalidate();
    await a.pass();
    const rib = await ribViaCli((...x) => gobgpd.cli(...x));
    expect([...rib.keys()].sort()).to.deep.equal(['10.50.0.0/16', '10.98.0.0/24', '10.99.0.0/24']);
  });

  it('drift pass: an owned path someone deleted comes back, an owned path nobody wants goes', async () => {
    const a = newAgent({ synced: true, connected: true, speaker: speakerConfig, desired: desired(route('10.49.0.0/16'), route('192.168.3.0/24')) });
    await a.pass();
    await gobgpd.cli('global', 'rib', 'del', '10.49.0.0/16');
    await gobgpd.cli('global', 'rib', 'add', '10.77.0.0/24', 'large-community', OWNER);
    expect([...(await ribViaCli((...x) => gobgpd.cli(...x))).keys()].sort()).to.deep.equal(['10.77.0.0/24', '192.168.3.0/24']);
    a.reconciler.invalidate(); // what the --resync-interval timer does
    await a.pass();
    expect([...(await ribViaCli((...x) => gobgpd.cli(...x))).keys()].sort()).to.deep.equal(['10.49.0.0/16', '192.168.3.0/24']);
  });

  it('agent restart: the new agent adopts the owned paths and sends no AddPath and no DeletePath', async () => {
    const state = {
      synced: true,
      connected: true,
      speaker: speakerConfig,
      desired: desired(route('10.49.0.0/16'), route('192.168.3.180/32', { communities: ['64512:300'] }), route('fd00:49::/112')),
    };
    const first = newAgent(state);
    await first.pass();
    const before = await ribViaCli((...x) => gobgpd.cli(...x));
    first.client.close();

    // Watch gobgpd's own table events (every best-path change) across the restart.
    const watcher = connectGobgp(gobgpd.address);
    const tableEvents: string[] = [];
    watches.push(
      watcher.watch({ table: true }, (ev) => {
        if (ev.kind === 'table') for (const p of ev.paths) tableEvents.push(`${p.withdrawn ? 'withdraw' : 'add'} ${p.route.prefix}`);
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const peersBefore = await gobgpd.cli('neighbor');

    const second = newAgent({ ...state });
    expect(await second.pass()).to.equal('done');
    await second.pass();
    await new Promise((r) => setTimeout(r, 500));
    expect(tableEvents).to.deep.equal([]);
    expect(await second.changes()).to.deep.equal({ add: 0, delete: 0 });
    const after = await ribViaCli((...x) => gobgpd.cli(...x));
    expect([...after.entries()]).to.deep.equal([...before.entries()]);
    expect(await gobgpd.cli('neighbor')).to.equal(peersBefore);
    expect(second.entries.find((e) => e.message === 'read owned paths from gobgpd')).to.include({ owned: 3 });
    // The watch does see changes (so the empty list above means something): one real change shows up.
    second.inputs.desired = desired(
      route('10.49.0.0/16'),
      route('192.168.3.180/32', { communities: ['64512:300'] }),
      route('fd00:49::/112'),
      route('10.60.0.0/16'),
    );
    await second.pass();
    await waitFor('the table event of one real add', async () => (tableEvents.includes('add 10.60.0.0/16') ? true : undefined), 10000, 50);
    watcher.close();
  });

  it('a fresh agent with unsynced caches withdraws nothing; a view that lost the API server withdraws nothing', async () => {
    const first = newAgent({ synced: true, connected: true, speaker: speakerConfig, desired: desired(route('10.49.0.0/16'), route('10.49.1.10/32')) });
    await first.pass();

    const fresh = newAgent({ synced: false, connected: false, speaker: speakerConfig });
    await fresh.pass();
    expect([...(await ribViaCli((...x) => gobgpd.cli(...x))).keys()].sort()).to.deep.equal(['10.49.0.0/16', '10.49.1.10/32']);
    expect(fresh.reconciler.readiness().cachesSynced).to.equal(false);

    // Synced once, then the API server went away: the (stale) view says "nothing" — nothing is withdrawn.
    first.inputs.connected = false;
    first.inputs.desired = desired();
    await first.pass();
    first.reconciler.invalidate();
    await first.pass();
    expect([...(await ribViaCli((...x) => gobgpd.cli(...x))).keys()].sort()).to.deep.equal(['10.49.0.0/16', '10.49.1.10/32']);
    expect(await first.changes()).to.deep.equal({ add: 2, delete: 0 });
    expect(first.entries.some((e) => String(e.message).includes('no withdrawals'))).to.equal(true);

    // Back in touch: now the withdrawal happens.
    first.inputs.connected = true;
    first.inputs.desired = desired(route('10.49.0.0/16'));
    await first.pass();
    expect([...(await ribViaCli((...x) => gobgpd.cli(...x))).keys()]).to.deep.equal(['10.49.0.0/16']);
  });

  it('gobgpd SIGKILLed and started again: the running agent restores global config, then paths, then peers (local_restarting)', async () => {
    const a = newAgent({
      synced: true,
      connected: true,
      speaker: speakerConfig,
      desired: desired(route('10.49.0.0/16'), route('192.168.3.180/32'), route('fd00:49::/112')),
    });
    const speaker = speakerOverClient(a.client, { log: memoryLogger().log, metrics: a.metrics });
    const scheduler = new PassScheduler((r) => a.reconciler.pass(r), { maxWindowMs: 50, retryMs: 300 });
    const monitor = new GobgpdMonitor(speaker, a.reconciler, (why, d) => scheduler.trigger(why, d), 300);
    stops.push(
      () => monitor.stop(),
      () => scheduler.stop(),
    );
    await monitor.start();
    scheduler.trigger('start', 0);
    await waitFor('provisioned', async () => (a.reconciler.readiness().provisioned ? true : undefined), 15000, 50);
    expect(await gobgpd.cli('neighbor')).to.contain('127.0.0.2');

    await gobgpd.kill('SIGKILL');
    await waitFor('agent to notice gobgpd is gone', async () => (a.reconciler.readiness().gobgpReachable ? undefined : true), 10000, 50);
    expect(a.reconciler.readiness().provisioned).to.equal(false);
    const markAt = a.entries.length;

    await gobgpd.start();
    await waitFor(
      'routes restored',
      async () => {
        const rib = await ribViaCli((...x) => gobgpd.cli(...x));
        return rib.size === 2 ? rib : undefined;
      },
      20000,
      100,
    );
    await waitFor('peer restored', async () => ((await gobgpd.cli('neighbor')).includes('127.0.0.2') ? true : undefined), 20000, 100);
    expect([...(await ribViaCli((...x) => gobgpd.cli(...x), 'ipv6')).keys()]).to.deep.equal(['fd00:49::/112']);
    expect(await gobgpd.cli('global')).to.match(/AS:\s+64512/);
    const peer = (await a.client.listPeers()).find((p) => p.peer.address === '127.0.0.2')!;
    expect(peer.localRestarting, 'peer re-added with graceful restart local_restarting').to.equal(true);
    expect(peer.ours).to.equal(true);

    // The order, from the agent's log after the restart: global, then every path, then the peer.
    const after = a.entries.slice(markAt).map((e) => e.message);
    const iGlobal = after.indexOf('gobgpd global configuration set');
    const iLastPath = after.lastIndexOf('advertise');
    const iPeers = after.indexOf('peers provisioned');
    expect(iGlobal).to.be.greaterThan(-1);
    expect(iGlobal).to.be.lessThan(after.indexOf('advertise'));
    expect(iLastPath).to.be.lessThan(iPeers);
    await waitFor('ready again', async () => (a.reconciler.readiness().provisioned ? true : undefined), 10000, 50);

    // Later passes do not reset the re-added peer (no UpdatePeer just to clear local_restarting).
    const flapsBefore = peer.flaps;
    await a.pass();
    const again = (await a.client.listPeers()).find((p) => p.peer.address === '127.0.0.2')!;
    expect(again.flaps).to.equal(flapsBefore);
  });

  it('a conflicting global config in gobgpd is reported once and left alone, and paths and peers are still reconciled', async () => {
    const otherPort = await freePort('127.0.0.1');
    await gobgpd.cli('global', 'as', '65000', 'router-id', '10.9.9.9', 'listen-port', String(otherPort));
    const a = newAgent({ synced: true, connected: true, speaker: speakerConfig, desired: desired(route('10.49.0.0/16'), route('10.49.1.10/32')) });
    const conflictGauge = async (): Promise<number | undefined> => (await a.metrics.gobgpGlobalConflict.get()).values[0]?.value;

    expect(await a.pass()).to.equal('done');
    // gobgpd's global settings are left exactly as they were
    const global = await gobgpd.cli('global');
    expect(global).to.match(/AS:\s+65000/);
    expect(global).to.match(/Router-ID:\s+10\.9\.9\.9/);
    expect(global).to.contain(`Listening Port: ${otherPort}`);
    // … and yet the paths are there, marked with the AS gobgpd runs, and our peer is configured
    const rib = await ribViaCli((...x) => gobgpd.cli(...x));
    expect([...rib.keys()].sort()).to.deep.equal(['10.49.0.0/16', '10.49.1.10/32']);
    for (const p of rib.values()) expect(p.largeCommunities).to.deep.equal(['65000:7376:1']);
    expect(await gobgpd.cli('neighbor')).to.contain('127.0.0.2');
    // reported: one error log naming both sides, the metric, readiness
    const errors = (): LogEntry[] => a.entries.filter((e) => e.level === 'error');
    expect(errors()).to.have.length(1);
    expect(String(errors()[0]!.error)).to.match(
      /already runs BGP with asn 65000, routerId 10\.9\.9\.9, listenPort \d+, but svcbgp is configured for asn 64512, routerId 10\.255\.0\.1, listenPort -1/,
    );
    expect(await conflictGauge()).to.equal(1);
    expect(a.reconciler.readiness()).to.include({ provisioned: true, globalMatches: false });

    // The cluster changes: one path goes, one comes — still reconciled, and no new error log for the same conflict.
    a.inputs.desired = desired(route('10.49.0.0/16'), route('192.168.3.180/32'));
    expect(await a.pass()).to.equal('done');
    a.reconciler.invalidate(); // a drift pass re-reads the RIB: nothing to do, nothing logged
    expect(await a.pass()).to.equal('done');
    expect([...(await ribViaCli((...x) => gobgpd.cli(...x))).keys()].sort()).to.deep.equal(['10.49.0.0/16', '192.168.3.180/32']);
    expect(await a.changes()).to.deep.equal({ add: 3, delete: 1 });
    expect(errors()).to.have.length(1);

    // A different conflict (the configured router-id changes too) is a new error log, once.
    a.inputs.speaker = { ...speakerConfig, routerId: '10.255.0.2' };
    await a.pass();
    await a.pass();
    expect(errors()).to.have.length(2);
    expect(String(errors()[1]!.error)).to.contain('routerId 10.255.0.2');

    // The configuration made to match what gobgpd runs: the conflict is over (logged once, metric 0, ready again).
    a.inputs.speaker = { ...speakerConfig, asn: 65000, routerId: '10.9.9.9', listenPort: otherPort };
    await a.pass();
    expect(a.entries.filter((e) => e.message === 'gobgpd global BGP settings match the configuration again')).to.have.length(1);
    expect(await conflictGauge()).to.equal(0);
    expect(a.reconciler.readiness().globalMatches).to.equal(true);
    expect(errors()).to.have.length(2);
  });

  it('a peer whose password Secret is unreadable is left exactly as gobgpd has it (not deleted, not reset)', async () => {
    const withPw = { ...speakerConfig, peers: [{ ...speakerConfig.peers[0]!, password: 'pw-1' }] };
    const a = newAgent({ synced: true, connected: true, speaker: withPw, desired: desired(route('10.49.0.0/16')) });
    await a.pass();
    const before = (await a.client.listPeers()).find((p) => p.peer.address === '127.0.0.2')!;
    expect(before.peer.password).to.equal('pw-1');
    a.inputs.speaker = { ...speakerConfig, peers: [], keepAsIs: ['127.0.0.2'] };
    await a.pass();
    const after = (await a.client.listPeers()).find((p) => p.peer.address === '127.0.0.2');
    expect(after, 'peer kept').to.not.equal(undefined);
    expect(after!.peer.password).to.equal('pw-1');
    expect(after!.flaps).to.equal(before.flaps);
    expect(a.entries.some((e) => e.message === 'peers provisioned')).to.equal(true); // only the first pass changed peers
    expect(a.entries.filter((e) => e.message === 'peers provisioned')).to.have.length(1);
  });
});
