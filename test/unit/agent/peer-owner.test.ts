import { expect } from 'chai';
import { AgentMetrics } from '../../../src/http/metrics.js';
import { silentLogger } from '../../../src/log/logger.js';
import { Reconciler, type ReconcilerDeps } from '../../../src/agent/reconciler.js';
import type { SpeakerPort } from '../../../src/model/speaker.js';

/**
 * Found in the seed-article lab (/work/notes/F-bugs.md #2): gobgpd's WatchEvent peer messages carry no description,
 * so every watched state change looked like an operator's peer and svcbgp_bgp_peer_state switched its owner label.
 */
describe('svcbgp_bgp_peer_state owner across ListPeer and WatchEvent updates', () => {
  const peerSeries = async (m: AgentMetrics): Promise<string[]> =>
    (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('svcbgp_bgp_peer_state{') && l.endsWith(' 1'));

  function reconciler(metrics: AgentMetrics): Reconciler {
    // notePeer touches nothing but the metrics and its own map: the other deps are never called here.
    const deps: ReconcilerDeps = {
      speaker: {} as SpeakerPort,
      inputs: { read: () => Promise.reject(new Error('not used')) },
      log: silentLogger(),
      metrics,
    };
    return new Reconciler(deps);
  }

  it('a watched state change of our peer keeps owner="svcbgp"', async () => {
    const metrics = new AgentMetrics();
    const r = reconciler(metrics);
    r.notePeer({ address: '192.168.1.1', state: 'established', ours: true }); // ListPeer: marker seen
    r.notePeer({ address: '192.168.1.1', state: 'active', ours: false }, 'watch'); // WatchEvent: no description
    expect(await peerSeries(metrics)).to.deep.equal(['svcbgp_bgp_peer_state{peer="192.168.1.1",state="active",owner="svcbgp"} 1']);
    expect(r.peerStates.get('192.168.1.1')).to.deep.equal({ address: '192.168.1.1', state: 'active', ours: true });
  });

  it("an operator's peer stays the operator's; ListPeer still decides", async () => {
    const metrics = new AgentMetrics();
    const r = reconciler(metrics);
    r.notePeer({ address: '10.0.0.9', state: 'active', ours: false });
    r.notePeer({ address: '10.0.0.9', state: 'established', ours: false }, 'watch');
    expect(await peerSeries(metrics)).to.deep.equal(['svcbgp_bgp_peer_state{peer="10.0.0.9",state="established",owner="operator"} 1']);
    r.notePeer({ address: '10.0.0.9', state: 'established', ours: true }); // svcbgp adopted it (marker set)
    expect(await peerSeries(metrics)).to.deep.equal(['svcbgp_bgp_peer_state{peer="10.0.0.9",state="established",owner="svcbgp"} 1']);
  });
});
