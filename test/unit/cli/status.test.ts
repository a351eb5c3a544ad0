import { expect } from 'chai';
import { agentTarget, formatStatus, joinReasons, type StatusReport } from '../../../src/cli/status.js';
import { AGENT_STATUS_KIND, type AgentStatus } from '../../../src/agent/status-report.js';

const agent = (over: Partial<AgentStatus> = {}): AgentStatus => ({
  kind: AGENT_STATUS_KIND,
  node: 'node-1',
  version: '0.1.0',
  startedAt: '2026-12-02T05:00:00.000Z',
  now: '2026-12-02T05:10:00.000Z',
  gobgpAddress: 'unix:///run/gobgp/gobgp.sock',
  ready: true,
  checks: { 'caches-synced': true, 'config-valid': true },
  config: { state: 'valid', errors: [] },
  fresh: true,
  lastPass: { startedAt: '2026-12-02T05:09:59.000Z', durationMs: 12, result: 'ok', reasons: ['services'] },
  desired: [
    {
      prefix: '10.49.0.0/16',
      family: 'ipv4-unicast',
      nextHop: '0.0.0.0',
      communities: [],
      largeCommunities: ['64512:7376:1'],
      kinds: ['cluster-ip-cidr'],
      reasons: ['serviceClusterIPs CIDR 10.49.0.0/16: advertised by every node'],
    },
  ],
  refused: [],
  withheld: [],
  ...over,
});

const report = (a: AgentStatus | undefined): StatusReport =>
  joinReasons({
    agent: a ? { address: '127.0.0.1:9479', status: a } : { address: '127.0.0.1:9479', error: 'fetch failed: connect ECONNREFUSED 127.0.0.1:9479' },
    gobgpd: {
      address: 'unix:///run/gobgp/gobgp.sock',
      api: 'v3',
      global: { asn: 64512, routerId: '192.168.1.10', listenPort: 179 },
      peers: [
        {
          address: '192.168.1.1',
          asn: 64512,
          state: 'established',
          adminDown: false,
          uptimeSeconds: 3725,
          flaps: 0,
          owner: 'svcbgp',
          gracefulRestart: { enabled: true, restartTime: 120, localRestarting: false },
        },
      ],
      owned: [
        {
          prefix: '10.49.0.0/16',
          family: 'ipv4-unicast',
          nextHop: '0.0.0.0',
          communities: [],
          largeCommunities: ['64512:7376:1'],
          ageSeconds: 61,
          reasons: [],
        },
        { prefix: '10.49.9.9/32', family: 'ipv4-unicast', nextHop: '0.0.0.0', communities: [], largeCommunities: ['64512:7376:1'], reasons: [] },
      ],
      otherLocal: 1,
    },
  });

describe('svcbgp status: the report as an operator reads it', () => {
  it('shows settings, peers with GR and uptime, owned routes with why (and those nothing wants), refusals, the last pass', () => {
    const text = formatStatus(
      report(
        agent({
          refused: [
            {
              namespace: 'default',
              service: 'evil',
              address: '8.8.8.8',
              code: 'outside-configured-cidrs',
              message: 'external IP 8.8.8.8 is outside every serviceExternalIPs CIDR',
              summary: 'outside every serviceExternalIPs CIDR',
            },
          ],
        }),
      ),
    );
    expect(text).to.contain('AS 64512, router-id 192.168.1.10, listen port 179');
    expect(text).to.match(/192\.168\.1\.1\s+64512\s+established\s+01:02:05\s+on, 120 s\s+0\s+svcbgp/);
    expect(text).to.match(/10\.49\.0\.0\/16\s+0\.0\.0\.0\s+00:01:01\s+64512:7376:1\s+serviceClusterIPs CIDR 10\.49\.0\.0\/16/);
    expect(text).to.match(/10\.49\.9\.9\/32 .*not wanted any more/);
    expect(text).to.contain("1 other local path(s) without svcbgp's marker, never touched");
    expect(text).to.contain('default/evil 8.8.8.8: external IP 8.8.8.8 is outside');
    expect(text).to.contain('last pass: 2026-12-02T05:09:59.000Z, ok in 12 ms');
  });

  it('an unreachable agent: the gobgpd part is still shown, with the error', () => {
    const text = formatStatus(report(undefined));
    expect(text).to.contain('agent:\n  unreachable: fetch failed');
    expect(text).to.contain('(agent unreachable)');
    expect(text).to.contain('192.168.1.1');
  });

  it('an invalid configuration held since start is said plainly', () => {
    const text = formatStatus(
      report(
        agent({
          ready: false,
          checks: { 'config-valid': false },
          config: { state: 'never-valid', errors: ['document 3 (BGPPeer "dup"): spec.peerIP = "192.168.1.1": duplicate peer'], quarantined: ['BGPPeer/dup'] },
          hold: 'invalid configuration',
        }),
      ),
    );
    expect(text).to.contain('NOT ready (failing: config-valid)');
    expect(text).to.contain('INVALID, and none was valid since the agent started');
    expect(text).to.contain('error: document 3 (BGPPeer "dup")');
    expect(text).to.contain('quarantined: BGPPeer/dup');
    expect(text).to.contain('holding: gobgpd is left as it is');
  });

  it('a newline or ANSI escape in a Service name cannot forge a line or recolour the terminal', () => {
    const text = formatStatus(
      report(
        agent({
          refused: [
            { namespace: 'default', service: 'x\nerror: forged\u001b[31m', address: '1.1.1.1', code: 'outside-configured-cidrs', message: 'm', summary: 'm' },
          ],
        }),
      ),
    );
    expect(text.split('\n').some((l) => l.startsWith('error: forged'))).to.equal(false);
    expect(text).not.to.contain('\u001b');
    expect(text).to.contain('x\\nerror: forged\\x1b[31m');
  });

  it('weighted ECMP: the owned route shows its link bandwidth, the reasons say where weight and Service attributes come from', () => {
    const lb = { asn: 64512, bytesPerSecond: 375_000 };
    const why = [
      'default/web (192.168.3.180): Local traffic policy ...',
      'weight from 3 usable local endpoint(s) (weightedECMP): default/web 3',
      'attributes from Service default/web annotations: communities 64512:150',
    ];
    const r = report(
      agent({
        desired: [
          {
            prefix: '192.168.3.180/32',
            family: 'ipv4-unicast',
            nextHop: '0.0.0.0',
            communities: ['64512:150'],
            largeCommunities: ['64512:7376:1'],
            linkBandwidth: lb,
            kinds: ['external-ip'],
            reasons: why,
          },
        ],
        refused: [
          {
            namespace: 'default',
            service: 'web',
            address: '64512:999',
            code: 'attribute-not-allowed',
            message: 'community 64512:999 in annotation svcbgp.io/communities is outside serviceAttributeLimits.communities (64512:100-199)',
            summary: 's',
          },
        ],
      }),
    );
    r.gobgpd.owned = [
      {
        prefix: '192.168.3.180/32',
        family: 'ipv4-unicast',
        nextHop: '0.0.0.0',
        communities: ['64512:150'],
        largeCommunities: ['64512:7376:1'],
        linkBandwidth: lb,
        reasons: [],
      },
    ];
    const text = formatStatus(joinReasons(r));
    expect(text).to.contain('link-bandwidth 64512:3 Mbit/s');
    expect(text).to.contain('weight from 3 usable local endpoint(s) (weightedECMP): default/web 3');
    expect(text).to.contain(
      'default/web 64512:999: community 64512:999 in annotation svcbgp.io/communities is outside serviceAttributeLimits.communities (64512:100-199)',
    );
    // A refused value is not a refused address: its own section, which says the routes stay.
    expect(text).to.contain('refused addresses (0): no node advertises these\n');
    expect(text).to.contain("refused annotation values (1): the Services' routes are advertised without these\n  default/web 64512:999: ");
  });

  it('--agent takes what --http-address takes', () => {
    expect(agentTarget(':9479')).to.equal('127.0.0.1:9479');
    expect(agentTarget('0.0.0.0:9479')).to.equal('127.0.0.1:9479');
    expect(agentTarget('[::]:9479')).to.equal('[::1]:9479');
    expect(agentTarget('127.0.0.1:9479')).to.equal('127.0.0.1:9479');
  });
});
