import { expect } from 'chai';
import { Reconciler, fixedInputs, type Inputs } from '../../../src/agent/reconciler.js';
import type { DesiredState } from '../../../src/model/path.js';
import type { SpeakerConfig } from '../../../src/model/peer.js';
import type { Route } from '../../../src/model/route.js';
import { markOwned } from '../../../src/model/owner-marker.js';
import { routeKey } from '../../../src/routes/diff.js';
import { capturingLogger } from '../../helpers/log.js';
import { MemorySpeaker } from '../../helpers/memory-speaker.js';

const memoryLogger = capturingLogger;

/**
 * The reconciler's promises, table-driven against an in-memory speaker (no gobgpd, no timing): every case starts
 * from a speaker state and a sequence of inputs and checks the calls the reconciler made, in order. The same
 * promises are tested against a real gobgpd in test/integration/agent/.
 */

const route = (prefix: string, extra: Partial<Route> = {}): Route => ({
  prefix,
  family: 'ipv4-unicast',
  nextHop: '0.0.0.0',
  communities: [],
  largeCommunities: [],
  ...extra,
});
const speakerConfig: SpeakerConfig = {
  asn: 64512,
  routerId: '192.168.1.10',
  listenPort: 179,
  peers: [{ address: '192.168.1.1', asn: 64512, gracefulRestart: { enabled: true, restartTime: 120 } }],
};
const desired = (...prefixes: string[]): DesiredState => ({
  paths: prefixes.map((p) => ({ route: route(p), kinds: ['cluster-ip-cidr'], reasons: [{ rule: 'aggregate' as const, text: `${p} wanted` }] })),
  refused: [],
});
const good = (...prefixes: string[]): Inputs => ({ synced: true, connected: true, speaker: speakerConfig, desired: desired(...prefixes) });
const owned = (prefix: string): Route => markOwned(route(prefix), 64512);

interface Case {
  name: string;
  /** The speaker before the first pass. */
  given: (s: MemorySpeaker) => void;
  /** The inputs of each pass, in order. */
  passes: Inputs[];
  /** The calls, in order, over all passes. */
  calls: string[];
  /** Prefixes gobgpd holds at the end. */
  rib: string[];
}

const cases: Case[] = [
  {
    name: 'first start: StartBgp, then the paths, then the peer with local_restarting',
    given: () => undefined,
    passes: [good('10.49.0.0/16')],
    calls: ['StartBgp', 'AddPath 10.49.0.0/16', 'AddPeer 192.168.1.1 local_restarting'],
    rib: ['10.49.0.0/16'],
  },
  {
    name: 'agent restart with an unchanged cluster: adopts the owned paths, no AddPath, no DeletePath, no peer change',
    given: (s) => {
      s.started = { asn: 64512, routerId: '192.168.1.10', listenPort: 179 };
      s.paths.set(routeKey(route('10.49.0.0/16')), owned('10.49.0.0/16'));
      s.peers.set('192.168.1.1', { address: '192.168.1.1', state: 'established', ours: true });
    },
    passes: [good('10.49.0.0/16'), good('10.49.0.0/16')],
    calls: ['ListPath'],
    rib: ['10.49.0.0/16'],
  },
  {
    name: 'caches not synced after a restart: no withdrawal of anything gobgpd holds, peers not deleted',
    given: (s) => {
      s.started = { asn: 64512, routerId: '192.168.1.10', listenPort: 179 };
      s.paths.set(routeKey(route('10.49.0.0/16')), owned('10.49.0.0/16'));
    },
    passes: [
      { synced: false, connected: true, waiting: 'caches syncing (services)' },
      { synced: true, connected: false, speaker: speakerConfig, desired: desired() },
    ],
    calls: ['ListPath', 'AddPeer 192.168.1.1'],
    rib: ['10.49.0.0/16'],
  },
  {
    name: 'API server unreachable after a good view: the last good desired set stays, nothing withdrawn',
    given: () => undefined,
    passes: [good('10.49.0.0/16', '10.49.1.1/32'), { synced: true, connected: false, speaker: speakerConfig, desired: desired('10.49.0.0/16') }],
    calls: ['StartBgp', 'AddPath 10.49.0.0/16,10.49.1.1/32', 'AddPeer 192.168.1.1 local_restarting'],
    rib: ['10.49.0.0/16', '10.49.1.1/32'],
  },
  {
    name: 'a Service gone from a good view: its /32 withdrawn, the aggregate kept',
    given: () => undefined,
    passes: [good('10.49.0.0/16', '10.49.1.1/32'), good('10.49.0.0/16')],
    calls: ['StartBgp', 'AddPath 10.49.0.0/16,10.49.1.1/32', 'AddPeer 192.168.1.1 local_restarting', 'DeletePath 10.49.1.1/32'],
    rib: ['10.49.0.0/16'],
  },
  {
    name: "an operator's path (no ownership marker) is never withdrawn",
    given: (s) => {
      s.started = { asn: 64512, routerId: '192.168.1.10', listenPort: 179 };
      s.paths.set(routeKey(route('10.99.0.0/24')), route('10.99.0.0/24'));
      s.peers.set('192.168.1.1', { address: '192.168.1.1', state: 'established', ours: true });
    },
    passes: [good('10.49.0.0/16')],
    calls: ['ListPath', 'AddPath 10.49.0.0/16'],
    rib: ['10.49.0.0/16', '10.99.0.0/24'],
  },
  {
    name: 'a global-settings conflict (gobgpd runs another AS) is not fought: paths and peers are still reconciled',
    given: (s) => {
      s.started = { asn: 65000, routerId: '192.168.1.10', listenPort: 179 };
    },
    passes: [good('10.49.0.0/16')],
    calls: ['ListPath', 'AddPath 10.49.0.0/16', 'AddPeer 192.168.1.1'],
    rib: ['10.49.0.0/16'],
  },
  {
    name: 'a configuration never valid since start, gobgpd running: held, not one call that changes anything',
    given: (s) => {
      s.started = { asn: 64512, routerId: '192.168.1.10', listenPort: 179 };
      s.paths.set(routeKey(route('10.49.0.0/16')), owned('10.49.0.0/16'));
    },
    passes: [{ ...good(), holdIfRunning: 'invalid configuration' }],
    calls: [],
    rib: ['10.49.0.0/16'],
  },
  {
    name: 'a configuration never valid since start, gobgpd empty: brought up from the fallback',
    given: () => undefined,
    passes: [{ ...good('10.49.0.0/16'), holdIfRunning: 'invalid configuration' }],
    calls: ['StartBgp', 'AddPath 10.49.0.0/16', 'AddPeer 192.168.1.1 local_restarting'],
    rib: ['10.49.0.0/16'],
  },
];

describe('reconciler, table-driven against an in-memory speaker', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const s = new MemorySpeaker();
      c.given(s);
      const r = new Reconciler({ speaker: s, inputs: fixedInputs(() => next()), log: memoryLogger().log });
      let i = 0;
      const next = (): Inputs => c.passes[Math.min(i, c.passes.length - 1)]!;
      for (; i < c.passes.length; i++) expect(await r.pass(new Set(['test']))).to.equal('done');
      expect(s.calls).to.deep.equal(c.calls);
      expect([...s.paths.values()].map((p) => p.prefix).sort()).to.deep.equal(c.rib);
    });
  }

  it('gobgpd restarted (RIB gone): global settings, then every path, then the peer with local_restarting', async () => {
    const s = new MemorySpeaker();
    const r = new Reconciler({ speaker: s, inputs: fixedInputs(() => good('10.49.0.0/16', '10.49.1.1/32')), log: memoryLogger().log });
    await r.pass(new Set(['start']));
    s.calls = [];
    s.started = undefined;
    s.paths.clear();
    s.peers.clear();
    expect(r.noteProbe(await s.probe())).to.equal(true);
    await r.pass(new Set(['gobgpd-restarted']));
    expect(s.calls).to.deep.equal(['StartBgp', 'AddPath 10.49.0.0/16,10.49.1.1/32', 'AddPeer 192.168.1.1 local_restarting']);
  });

  describe('a delta (one Service changed since the state of the last pass: src/agent/desired-state.ts)', () => {
    const path = (p: string) => ({ route: route(p), kinds: ['cluster-ip' as const], reasons: [{ rule: 'local-endpoint' as const, text: `${p} wanted` }] });
    const state = (generation: number, prefixes: string[], delta?: { since: number; changed: Record<string, string | undefined> }): Inputs => ({
      ...good(),
      desired: {
        paths: prefixes.map(path),
        refused: [],
        generation,
        ...(delta
          ? {
              delta: {
                since: delta.since,
                changed: new Map(Object.entries(delta.changed).map(([k, v]) => [`ipv4-unicast|${k}`, v === undefined ? undefined : path(v)])),
              },
            }
          : {}),
      },
    });

    it('only the changed keys are sent; an unchanged key that drifted in gobgpd meanwhile waits for the drift pass, which compares everything', async () => {
      const s = new MemorySpeaker();
      let inputs = state(1, ['10.49.0.1/32', '10.49.0.2/32']);
      const r = new Reconciler({ speaker: s, inputs: fixedInputs(() => inputs), log: memoryLogger().log });
      await r.pass(new Set(['start']));
      s.calls = [];
      s.paths.delete(routeKey(route('10.49.0.1/32'))); // `gobgp global rib del` behind svcbgp's back
      inputs = state(2, ['10.49.0.1/32', '10.49.0.3/32'], { since: 1, changed: { '10.49.0.2/32': undefined, '10.49.0.3/32': '10.49.0.3/32' } });
      await r.pass(new Set(['endpointslice']));
      expect(s.calls).to.deep.equal(['AddPath 10.49.0.3/32', 'DeletePath 10.49.0.2/32']);
      s.calls = [];
      r.checkDrift();
      inputs = state(3, ['10.49.0.1/32', '10.49.0.3/32'], { since: 2, changed: {} });
      await r.pass(new Set(['drift']));
      expect(s.calls).to.deep.equal(['ListPath', 'AddPath 10.49.0.1/32']);
      expect([...s.paths.values()].map((p) => p.prefix).sort()).to.deep.equal(['10.49.0.1/32', '10.49.0.3/32']);
    });

    it('a delta relative to another state than the one last applied is not trusted: everything is compared', async () => {
      const s = new MemorySpeaker();
      let inputs = state(1, ['10.49.0.1/32']);
      const r = new Reconciler({ speaker: s, inputs: fixedInputs(() => inputs), log: memoryLogger().log });
      await r.pass(new Set(['start']));
      s.calls = [];
      // Generation 2 was never seen by this reconciler (a pass skipped on a stale view, say): its delta says nothing changed.
      inputs = state(3, ['10.49.0.1/32', '10.49.0.2/32'], { since: 2, changed: {} });
      await r.pass(new Set(['service']));
      expect(s.calls).to.deep.equal(['AddPath 10.49.0.2/32']);
    });

    it('after gobgpd lost its RIB the delta is not trusted: global settings, every path, then the peer', async () => {
      const s = new MemorySpeaker();
      let inputs = state(1, ['10.49.0.1/32', '10.49.0.2/32']);
      const r = new Reconciler({ speaker: s, inputs: fixedInputs(() => inputs), log: memoryLogger().log });
      await r.pass(new Set(['start']));
      s.calls = [];
      s.started = undefined;
      s.paths.clear();
      s.peers.clear();
      inputs = state(2, ['10.49.0.1/32', '10.49.0.2/32', '10.49.0.3/32'], { since: 1, changed: { '10.49.0.3/32': '10.49.0.3/32' } });
      await r.pass(new Set(['gobgpd-restarted']));
      expect(s.calls).to.deep.equal(['StartBgp', 'AddPath 10.49.0.1/32,10.49.0.2/32,10.49.0.3/32', 'AddPeer 192.168.1.1 local_restarting']);
    });
  });

  it('a leaving node: GRACEFUL_SHUTDOWN on the paths it had, then after the drain time every path withdrawn; back to normal when it stays', async () => {
    const s = new MemorySpeaker();
    let now = 1_000_000;
    let inputs = good('10.49.0.0/16');
    const scheduled: [string, number][] = [];
    const r = new Reconciler({
      speaker: s,
      inputs: fixedInputs(() => inputs),
      log: memoryLogger().log,
      drainMs: 5000,
      now: () => now,
      schedule: (why, ms) => scheduled.push([why, ms]),
    });
    await r.pass(new Set(['start']));
    inputs = { ...good(), leaving: 'the Node is labelled node.kubernetes.io/exclude-from-external-load-balancers=true' };
    await r.pass(new Set(['node']));
    const drained = [...s.paths.values()];
    expect(drained.map((p) => [p.prefix, p.communities, p.localPref])).to.deep.equal([['10.49.0.0/16', ['65535:0'], 0]]);
    expect(scheduled).to.deep.equal([['drain-time', 5000]]);
    now += 4999;
    await r.pass(new Set(['services']));
    expect(s.paths.size).to.equal(1);
    now += 1;
    await r.pass(new Set(['drain-time']));
    expect(s.paths.size).to.equal(0);
    expect(r.snapshot().leaving).to.deep.include({ withdrawn: true });
    inputs = good('10.49.0.0/16');
    await r.pass(new Set(['node']));
    expect([...s.paths.values()].map((p) => [p.prefix, p.communities, p.localPref])).to.deep.equal([['10.49.0.0/16', [], undefined]]);
    expect(r.snapshot().leaving).to.equal(undefined);
  });

  it('a drain that started goes on through an API-server outage (the last thing known is that the node leaves)', async () => {
    const s = new MemorySpeaker();
    let now = 0;
    let inputs = good('10.49.0.0/16');
    const r = new Reconciler({ speaker: s, inputs: fixedInputs(() => inputs), log: memoryLogger().log, drainMs: 1000, now: () => now });
    await r.pass(new Set(['start']));
    inputs = { ...good(), leaving: 'the Node object is being deleted' };
    await r.pass(new Set(['node']));
    inputs = { synced: true, connected: false, speaker: speakerConfig, desired: desired('10.49.0.0/16') };
    now = 2000;
    await r.pass(new Set(['drain-time']));
    expect(s.paths.size).to.equal(0);
  });
});
