import { expect } from 'chai';
import { parseConfig, peersForNode, type BgpConfig, type ParseResult } from '../../../src/config/index.js';
import { DEFAULT_BFD, SVCBGP_HOLD_TIME, SVCBGP_KEEPALIVE_TIME, resolveTimers, timerProblems } from '../../../src/config/timers.js';

const ok = (r: ParseResult): BgpConfig => {
  if (!r.ok) throw new Error(r.errors.map((e) => e.text).join('\n'));
  return r.config;
};
const errors = (r: ParseResult): string[] => (r.ok ? [] : r.errors.map((e) => e.text));
const warnings = (r: ParseResult): string[] => r.warnings.map((w) => w.text);
const peerDoc = (spec: string): string =>
  `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: tor\nspec:\n  peerIP: 192.168.1.1\n  asNumber: 64512\n${spec}`;
const nodePeer = (spec: string) => peersForNode(ok(parseConfig(peerDoc(spec))), { name: 'node-1', labels: {} })[0]!;

describe('config: BGP timers of a peer (keepaliveTime: Calico; holdTime: svcbgp extension)', () => {
  it("svcbgp's default when a BGPPeer sets neither: keepalive 3 s, hold 9 s, on every peer svcbgp configures", () => {
    expect([SVCBGP_KEEPALIVE_TIME, SVCBGP_HOLD_TIME]).to.deep.equal([3, 9]);
    expect(nodePeer('')).to.deep.include({ keepaliveTime: 3, holdTime: 9 });
    // The seed's built-in peer (no BGPPeer at all) gets them too.
    const seed = peersForNode(ok(parseConfig('apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {}\n')), {
      name: 'n',
      labels: {},
    });
    expect(seed[0]).to.deep.include({ address: '192.168.1.1', keepaliveTime: 3, holdTime: 9 });
  });

  it('keepaliveTime alone: hold = 3 x keepalive (as before); holdTime alone: keepalive = hold / 3; both: as written', () => {
    expect(nodePeer('  keepaliveTime: 10s\n')).to.deep.include({ keepaliveTime: 10, holdTime: 30 });
    expect(nodePeer('  holdTime: 30s\n')).to.deep.include({ keepaliveTime: 10, holdTime: 30 });
    expect(nodePeer('  holdTime: 4s\n')).to.deep.include({ keepaliveTime: 1, holdTime: 4 });
    expect(nodePeer('  keepaliveTime: 1s\n  holdTime: 3s\n')).to.deep.include({ keepaliveTime: 1, holdTime: 3 });
    expect(nodePeer('  keepaliveTime: 20s\n  holdTime: 1m30s\n')).to.deep.include({ keepaliveTime: 20, holdTime: 90 });
    expect(resolveTimers(21845)).to.deep.equal({ keepaliveTime: 21845, holdTime: 65535 });
  });

  it('refuses a hold time of 0 (gobgpd would run its 90 s default) or below 3 s, and a keepalive not shorter than the hold time', () => {
    expect(errors(parseConfig(peerDoc('  holdTime: 0s\n')))).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.holdTime = "0s": a hold time of 0 (no keepalives, a dead peer is never detected) is not supported: gobgpd takes 0 as its default, 90s; use at least 3s',
    ]);
    expect(errors(parseConfig(peerDoc('  holdTime: 2s\n')))).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.holdTime = "2s": the hold time must be at least 3s (RFC 4271 4.2)',
    ]);
    expect(errors(parseConfig(peerDoc('  keepaliveTime: 9s\n  holdTime: 9s\n')))).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.holdTime = "9s": keepaliveTime (9s) must be shorter than holdTime (9s): the peer would expire the session between two keepalives; RFC 4271 suggests keepalive = hold / 3',
    ]);
    expect(errors(parseConfig(peerDoc('  holdTime: 65536s\n')))).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.holdTime = "65536s": out of range: expected 0s..65535s (whole seconds)',
    ]);
    expect(errors(parseConfig(peerDoc('  holdTime: 30\n')))).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.holdTime = 30: expected a duration such as "30s", "2m" or "1h2m3s"',
    ]);
  });

  it("a duration under a second is refused, never rounded to 0; one beyond the field's range too", () => {
    expect(errors(parseConfig(peerDoc('  holdTime: 1ns\n')))).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.holdTime = "1ns": out of range: shorter than 1s, it would round to 0 (whole seconds)',
    ]);
    expect(errors(parseConfig(peerDoc('  keepaliveTime: 400ms\n  maxRestartTime: 1ns\n')))).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.keepaliveTime = "400ms": out of range: expected 1s..21845s (whole seconds)',
      'document 1 (BGPPeer "tor"): spec.maxRestartTime = "1ns": out of range: expected 1s..4095s (whole seconds)',
    ]);
    expect(errors(parseConfig(peerDoc('  keepaliveTime: 1000000h\n')))).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.keepaliveTime = "1000000h": out of range: expected 1s..21845s (whole seconds)',
    ]);
    expect(
      errors(parseConfig(peerDoc('  failureDetectionMode: BFDIfDirectlyConnected\n  bfd: {minimumRecvInterval: 1ns, minimumSendInterval: 1000h}\n'))),
    ).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.bfd.minimumRecvInterval = "1ns": expected a whole number of milliseconds 50ms..60s, e.g. "300ms"',
      'document 1 (BGPPeer "tor"): spec.bfd.minimumSendInterval = "1000h": expected a whole number of milliseconds 50ms..60s, e.g. "300ms"',
    ]);
  });

  it('warns (and accepts) a keepalive above a third of the hold time', () => {
    const r = parseConfig(peerDoc('  keepaliveTime: 5s\n  holdTime: 9s\n'));
    expect(ok(r).peers[0]).to.deep.include({ keepaliveTime: 5, holdTime: 9 });
    expect(warnings(r)).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.holdTime = "9s": keepaliveTime (5s) is more than a third of holdTime (9s): fewer than three keepalives per hold time, so one late keepalive can reset the session',
    ]);
    expect(timerProblems(3, 9)).to.deep.equal({ errors: [], warnings: [] });
  });
});

describe("config: BFD (Calico's failureDetectionMode, svcbgp's bfd timers)", () => {
  it('BFDIfDirectlyConnected turns BFD on with 300 ms x 3; None or absent leaves it off; no warning', () => {
    const r = parseConfig(peerDoc('  failureDetectionMode: BFDIfDirectlyConnected\n'));
    expect(warnings(r)).to.deep.equal([]);
    expect(nodePeer('  failureDetectionMode: BFDIfDirectlyConnected\n').bfd).to.deep.equal(DEFAULT_BFD);
    expect(DEFAULT_BFD).to.deep.equal({ minimumSendIntervalMs: 300, minimumRecvIntervalMs: 300, multiplier: 3 });
    expect(nodePeer('  failureDetectionMode: None\n').bfd).to.equal(undefined);
    expect(nodePeer('').bfd).to.equal(undefined);
  });

  it("the bfd block sets the timers (Calico's BFDConfiguration names), in whole milliseconds", () => {
    const p = nodePeer('  failureDetectionMode: BFDIfDirectlyConnected\n  bfd: {minimumRecvInterval: 0.5s, minimumSendInterval: 200ms, multiplier: 5}\n');
    expect(p.bfd).to.deep.equal({ minimumSendIntervalMs: 200, minimumRecvIntervalMs: 500, multiplier: 5 });
  });

  it('refuses unknown modes and bad timers, and says that timers without the mode do nothing', () => {
    expect(errors(parseConfig(peerDoc('  failureDetectionMode: bfd\n')))).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.failureDetectionMode = "bfd": expected one of None, BFDIfDirectlyConnected (Calico\'s values, case-sensitive)',
    ]);
    expect(
      errors(
        parseConfig(
          peerDoc('  failureDetectionMode: BFDIfDirectlyConnected\n  bfd: {minimumRecvInterval: 10ms, minimumSendInterval: 300.5ms, multiplier: 1}\n'),
        ),
      ),
    ).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.bfd.minimumRecvInterval = "10ms": expected a whole number of milliseconds 50ms..60s, e.g. "300ms"',
      'document 1 (BGPPeer "tor"): spec.bfd.minimumSendInterval = "300.5ms": expected a whole number of milliseconds 50ms..60s, e.g. "300ms"',
      'document 1 (BGPPeer "tor"): spec.bfd.multiplier = 1: expected an integer 2..255: packets missed before the peer is declared down',
    ]);
    const r = parseConfig(peerDoc('  bfd: {multiplier: 3}\n'));
    expect(ok(r).peers[0]!.bfd).to.equal(undefined);
    expect(warnings(r)).to.deep.equal(['document 1 (BGPPeer "tor"): spec.bfd: BFD timers without failureDetectionMode: BFDIfDirectlyConnected; BFD stays off']);
  });
});
