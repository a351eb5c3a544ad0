/**
 * The pure parts of the node-leaving test and the chaos suite, without root: `ip monitor route` lines, the ToRs'
 * BGP path views (BIRD text, FRR JSON, as the lab's BIRD 2.0.12 and FRR 8.4 print them), the request loop's output,
 * the drain sequence and the report table.
 */
import { expect } from 'chai';
import { deletionsOf, joinMonitorLines, parseMonitorLine, routerEvents } from '../lab/route-events.js';
import { isDraining, parseBirdRouteAll, parseFrrPrefixJson } from '../lab/tor-paths.js';
import { answersByNode, inWindow, parseTrafficLines } from '../lab/traffic.js';
import { noteState, pathState, stateSequence, type PathStateChange } from './chaos/drain-watch.js';
import { prng } from './chaos/churn.js';
import { aggregateRuns, renderChaosReport, type FaultRun } from './chaos/report.js';
import { birdGracefulShutdownFilter, renderBirdConfig } from '../lab/bird.js';
import { frrGracefulShutdownLines, renderBgpdConfig } from '../lab/frr.js';

describe('ip monitor route lines (the ToR kernel table changes)', () => {
  const raw = [
    '10.49.0.0/16 proto bird metric 32 ',
    '\tnexthop via 192.168.1.11 dev br0 weight 1 ',
    '\tnexthop via 192.168.1.12 dev br0 weight 1 ',
    'Deleted 192.168.3.180 nhid 24 proto bgp metric 20 ',
    '\tnexthop via 192.168.1.12 dev br0 weight 1 ',
    '\tnexthop via 192.168.1.10 dev br0 weight 1 ',
    '10.49.62.131 via 192.168.1.11 dev br0 proto bird metric 32 ',
    'local fe80::70d1:85ff:fe67:a61a dev n3 table local proto kernel metric 0 pref medium',
    '192.168.1.0/24 dev br0 proto kernel scope link src 192.168.1.1 ',
  ];
  const events = joinMonitorLines(raw)
    .map((l, i) => parseMonitorLine(l, i))
    .filter((e) => e !== undefined);

  it('a multipath route with its nexthop lines is one change; a /32 gets its length; local table entries are skipped', () => {
    expect(events.map((e) => [e.prefix, e.deleted, e.protocol, e.nextHops])).to.deep.equal([
      ['10.49.0.0/16', false, 'bird', ['192.168.1.11', '192.168.1.12']],
      ['192.168.3.180/32', true, 'bgp', ['192.168.1.10', '192.168.1.12']],
      ['10.49.62.131/32', false, 'bird', ['192.168.1.11']],
      ['192.168.1.0/24', false, 'kernel', []],
    ]);
  });

  it("a replace that changes only FRR's weighted-ECMP weights is a change with the new weights", () => {
    const [e] = joinMonitorLines([
      '192.168.3.180 nhid 41 proto bgp metric 20 ',
      '\tnexthop via 192.168.1.10 dev br0 weight 50 ',
      '\tnexthop via 192.168.1.11 dev br0 weight 50 ',
    ]).map((l) => parseMonitorLine(l, 7));
    expect([e!.deleted, e!.prefix, e!.weights]).to.deep.equal([false, '192.168.3.180/32', { '192.168.1.10': 50, '192.168.1.11': 50 }]);
    expect(events[2]!.weights).to.deep.equal({ '192.168.1.11': 1 });
  });

  it("only the routing daemon's changes count, and deletions only of the prefixes asked for, in the window asked for", () => {
    const mine = routerEvents(events);
    expect(mine.map((e) => e.prefix)).to.deep.equal(['10.49.0.0/16', '192.168.3.180/32', '10.49.62.131/32']);
    expect(deletionsOf(mine, new Set(['192.168.3.180/32'])).map((e) => e.prefix)).to.deep.equal(['192.168.3.180/32']);
    expect(deletionsOf(mine, new Set(['10.49.0.0/16']))).to.deep.equal([]);
    expect(deletionsOf(mine, new Set(['192.168.3.180/32']), 2, 10)).to.deep.equal([]);
  });
});

describe("the ToR's BGP paths of a prefix (GRACEFUL_SHUTDOWN seen at the ToR)", () => {
  const bird = `BIRD 2.0.12 ready.
Table master4:
10.49.0.0/16         unicast [node_2 10:07:37.171] * (100) [?]
	via 192.168.1.11 on br0
	Type: BGP univ
	BGP.origin: Incomplete
	BGP.as_path: 
	BGP.next_hop: 192.168.1.11
	BGP.local_pref: 100
	BGP.large_community: (64512, 7376, 1)
                     unicast [node_1 10:07:37.233] (100) [?]
	via 192.168.1.10 on br0
	Type: BGP univ
	BGP.origin: Incomplete
	BGP.as_path: 
	BGP.next_hop: 192.168.1.10
	BGP.local_pref: 0
	BGP.community: (65535,0)
`;

  it('BIRD: one path per node, LOCAL_PREF after the import filter, communities as a:b', () => {
    const paths = parseBirdRouteAll(bird);
    expect(paths).to.deep.equal([
      { nextHop: '192.168.1.11', localPref: 100, communities: [] },
      { nextHop: '192.168.1.10', localPref: 0, communities: ['65535:0'] },
    ]);
    expect(paths.map(isDraining)).to.deep.equal([false, true]);
    expect(parseBirdRouteAll('BIRD 2.0.12 ready.\nNetwork not found\n')).to.deep.equal([]);
  });

  it('FRR: graceful-shutdown is 65535:0, the extended communities as FRR prints them; an unknown prefix is {}', () => {
    const json = JSON.stringify({
      prefix: '10.49.0.0/16',
      paths: [
        { locPrf: 100, multipath: true, nexthops: [{ ip: '192.168.1.12', afi: 'ipv4' }] },
        { locPrf: 0, community: { string: 'graceful-shutdown 64512:100', list: ['gracefulShutdown', '64512:100'] }, nexthops: [{ ip: '192.168.1.10' }] },
        { locPrf: 100, extendedCommunity: { string: 'LB:64512:375000 (3.000 Mbps)' }, nexthops: [{ ip: '192.168.1.11' }] },
      ],
    });
    const paths = parseFrrPrefixJson(json);
    expect(paths).to.deep.equal([
      { nextHop: '192.168.1.12', localPref: 100, communities: [] },
      { nextHop: '192.168.1.10', localPref: 0, communities: ['65535:0', '64512:100'] },
      { nextHop: '192.168.1.11', localPref: 100, communities: [], extendedCommunity: 'LB:64512:375000 (3.000 Mbps)' },
    ]);
    expect(paths.map(isDraining)).to.deep.equal([false, true, false]);
    expect(parseFrrPrefixJson('{}')).to.deep.equal([]);
  });

  it('the drain as a sequence of states: normal, draining, absent (repeats collapsed)', () => {
    const h: PathStateChange[] = [];
    const paths = parseBirdRouteAll(bird);
    noteState(h, 1, pathState(paths.slice(0, 1).concat([{ nextHop: '192.168.1.10', localPref: 100, communities: [] }]), '192.168.1.10'));
    noteState(h, 2, pathState(paths, '192.168.1.10'));
    noteState(h, 3, pathState(paths, '192.168.1.10'));
    noteState(h, 4, pathState(paths.slice(0, 1), '192.168.1.10'));
    expect(stateSequence(h)).to.deep.equal(['normal', 'draining', 'absent']);
    expect(h.map((c) => c.at)).to.deep.equal([1, 2, 4]);
  });
});

describe('the lab ToR configurations honour GRACEFUL_SHUTDOWN on import (and change nothing else)', () => {
  const settings = { ns: 'sb0000-tor', dir: '/tmp/x', asn: 64512, routerId: '192.168.1.1', neighbors: [{ name: 'node-1', address: '192.168.1.10' }] };

  it("BIRD: the filter sets LOCAL_PREF 0 on (65535, 0), accepts everything, and is every channel's import filter", () => {
    const c = renderBirdConfig(settings);
    for (const l of birdGracefulShutdownFilter()) expect(c).to.include(l);
    expect(c).to.include('if (65535, 0) ~ bgp_community then bgp_local_pref = 0;');
    expect(c).to.include('ipv4 { import filter honour_graceful_shutdown;');
    expect(c).to.include('ipv6 { import filter honour_graceful_shutdown;');
    expect(c).to.not.include('import all');
  });

  it('FRR: the community-list and the inbound route-map (permit everything else) on every address family', () => {
    const c = renderBgpdConfig(settings);
    for (const l of frrGracefulShutdownLines()) expect(c).to.include(l);
    expect(c.match(/neighbor NODES route-map SVCBGP-FROM-NODES in/g)).to.have.length(2);
    expect(renderBgpdConfig({ ...settings, ipv6: false }).match(/route-map SVCBGP-FROM-NODES in/g)).to.have.length(1);
    expect(c).to.match(/route-map SVCBGP-FROM-NODES permit 20\n/);
  });
});

describe('the request loop and the chaos report', () => {
  it('loop output: the start line is skipped; answers by node; a window by start time', () => {
    const results = parseTrafficLines([
      JSON.stringify({ started: 1, urls: ['http://192.168.3.181:80/'] }),
      JSON.stringify({ url: 'http://192.168.3.181:80/', at: 10, ms: 3, ok: true, status: 200, node: 'node-1' }),
      JSON.stringify({ url: 'http://192.168.3.181:80/', at: 20, ms: 1000, ok: false, error: 'timed out after 1000 ms' }),
      JSON.stringify({ url: 'http://192.168.3.181:80/', at: 30, ms: 2, ok: true, status: 200, node: 'node-2' }),
      '',
    ]);
    expect(results).to.have.length(3);
    expect(answersByNode(results)).to.deep.equal({ 'http://192.168.3.181:80/': { 'node-1': 1, 'node-2': 1 } });
    expect(inWindow(results, 15, 30).map((r) => r.ok)).to.deep.equal([false, true]);
  });

  it('runs aggregate per fault and ToR in order; the table says the date, the versions and every number', () => {
    const run = (fault: string, router: string, convergeMs: number, failed = 0): FaultRun => ({
      fault,
      router,
      round: 1,
      node: 'node-1',
      liveDeletions: failed > 0 ? 2 : 0,
      liveChanges: 0,
      allChanges: 3,
      requests: 100,
      failed,
      convergeMs,
    });
    const rows = aggregateRuns([
      run('gobgpd SIGKILL', 'BIRD 2', 2000),
      run('ToR restart', 'BIRD 2', 6000, 50),
      run('gobgpd SIGKILL', 'BIRD 2', 4000),
      run('gobgpd SIGKILL', 'FRR', 1000),
    ]);
    expect(rows.map((r) => [r.fault, r.router, r.runs, r.failed, r.requests, r.convergeMedianMs, r.convergeMaxMs])).to.deep.equal([
      ['gobgpd SIGKILL', 'BIRD 2', 2, 0, 200, 3000, 4000],
      ['ToR restart', 'BIRD 2', 1, 50, 100, 6000, 6000],
      ['gobgpd SIGKILL', 'FRR', 1, 0, 100, 1000, 1000],
    ]);
    const md = renderChaosReport({
      date: '2026-12-02 11:00 UTC',
      versions: { gobgpd: '3.10.0', BIRD: '2.0.12' },
      rounds: 2,
      rows,
      churn: { actions: 40, failed: 3 },
      finalTable: { 'BIRD 2': 'equal (6 routes)' },
      notes: ['a note'],
    });
    expect(md).to.include('on 2026-12-02 11:00 UTC, 2 round(s)');
    expect(md).to.include('Versions: gobgpd 3.10.0, BIRD 2.0.12.');
    expect(md).to.include('| gobgpd SIGKILL | BIRD 2 | 2 | 0 | 0 | 6 | 0 / 200 | 3.0 / 4.0 |');
    expect(md).to.include('| ToR restart | BIRD 2 | 1 | 2 | 0 | 3 | 50 / 100 | 6.0 / 6.0 |');
    expect(md).to.include('40 actions (3 refused');
    expect(md.trimEnd().endsWith('a note')).to.equal(true);
  });

  it('the churn is reproducible: the same seed, the same choices', () => {
    const a = prng(14);
    const b = prng(14);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).to.deep.equal(xs);
    for (const x of xs) expect(x).to.be.within(0, 1);
  });
});
