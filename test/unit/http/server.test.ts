import { expect } from 'chai';
import { parseListenAddress, startHealthServer } from '../../../src/http/server.js';
import { AgentMetrics } from '../../../src/http/metrics.js';
import { silentLogger } from '../../../src/log/logger.js';

describe('health and metrics server', () => {
  it('--http-address forms: ":9479" (all), "127.0.0.1:9479", "[::1]:9479"; bad ones say why', () => {
    expect(parseListenAddress(':9479')).to.deep.equal({ host: undefined, port: 9479 });
    expect(parseListenAddress('127.0.0.1:9479')).to.deep.equal({ host: '127.0.0.1', port: 9479 });
    expect(parseListenAddress('[::1]:9479')).to.deep.equal({ host: '::1', port: 9479 });
    expect(() => parseListenAddress('9479')).to.throw(/expected host:port/);
    expect(() => parseListenAddress(':70000')).to.throw(/out of range/);
  });

  it('/healthz 200, /readyz 503 naming the failed check then 200, /metrics in Prometheus text', async () => {
    let ready = false;
    const metrics = new AgentMetrics();
    const srv = await startHealthServer(
      '127.0.0.1:0',
      () => ({
        ready,
        checks: { 'caches-synced': true, 'gobgpd-reachable': ready },
        info: { 'gobgpd-api': ready ? 'v4' : 'unknown' },
      }),
      metrics,
      silentLogger(),
    );
    try {
      const get = async (p: string) => {
        const r = await fetch(`http://${srv.address}${p}`);
        return { status: r.status, body: await r.text() };
      };
      expect(srv.address).to.match(/^127\.0\.0\.1:\d+$/);
      expect((await get('/healthz')).status).to.equal(200);
      const nr = await get('/readyz');
      expect(nr.status).to.equal(503);
      expect(nr.body).to.contain('[-]gobgpd-reachable failed').and.to.contain('[+]caches-synced ok');
      expect(nr.body).to.contain('gobgpd-api: unknown\nnot ready');
      ready = true;
      const r = await get('/readyz');
      expect(r.status).to.equal(200);
      expect(r.body).to.contain('gobgpd-api: v4\nready');
      metrics.passes.inc({ result: 'ok' });
      metrics.setGobgpApi('v3', false);
      metrics.setGobgpApi('v4', false);
      metrics.setPeerState('192.168.1.1', 'established', true);
      const m = await get('/metrics');
      expect(m.body).to.contain('svcbgp_reconcile_passes_total{result="ok"} 1');
      expect(m.body).to.contain('svcbgp_bgp_peer_state{peer="192.168.1.1",state="established",owner="svcbgp"} 1');
      expect(m.body).to.contain('svcbgp_bgp_peer_state{peer="192.168.1.1",state="idle",owner="svcbgp"} 0');
      expect(m.body).to.contain('svcbgp_gobgp_info{api="v4",api_matches="true"} 1');
      expect(m.body).to.not.match(/^svcbgp_gobgp_info\{api="v3"/m); // one series: the API in use now
      expect((await get('/nope')).status).to.equal(404);
    } finally {
      await srv.close();
    }
  });

  it('peer-state series of a deleted peer disappear', async () => {
    const metrics = new AgentMetrics(false);
    metrics.setPeerState('192.168.1.1', 'established', true);
    metrics.setPeerState('10.0.0.9', 'active', false);
    metrics.retainPeers(new Set(['10.0.0.9']));
    const text = await metrics.registry.metrics();
    expect(text).to.not.contain('peer="192.168.1.1"');
    expect(text).to.contain('svcbgp_bgp_peer_state{peer="10.0.0.9",state="active",owner="operator"} 1');
  });
});
