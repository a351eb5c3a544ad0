/** The lab's pure parts (no root needed): `ip -j route` parsing, BIRD/FRR session parsing, generated configs. */
import { expect } from 'chai';
import {
  canonicalPrefix,
  formatRouteTable,
  parseBirdProtocols,
  parseFrrSummary,
  parseIpRouteJson,
  parseNextHopWeights,
  renderBgpdConfig,
  renderBirdConfig,
  renderGobgpdToml,
  toRouteTable,
} from '../lab/index.js';
import { frrDaemons } from '../lab/frr.js';
import { isNginxImage, labPodHost, nginxConfig } from '../lab/pods.js';
import { LAB_NS_PATTERN } from '../lab/topology.js';

// Captured from the lab: BIRD 2.0.12 (`proto bird`) and FRR 8.4 (`proto bgp` with `nhid`).
const BIRD_V4 = JSON.stringify([
  {
    dst: '10.49.0.0/16',
    protocol: 'bird',
    metric: 32,
    flags: [],
    nexthops: [
      { gateway: '192.168.1.12', dev: 'br0', weight: 1, flags: [] },
      { gateway: '192.168.1.10', dev: 'br0', weight: 1, flags: [] },
      { gateway: '192.168.1.11', dev: 'br0', weight: 1, flags: [] },
    ],
  },
  { dst: '10.49.62.131', gateway: '192.168.1.11', dev: 'br0', protocol: 'bird', metric: 32, flags: [] },
  { dst: '172.30.0.0/24', dev: 'ext0', protocol: 'kernel', scope: 'link', prefsrc: '172.30.0.1', flags: [] },
  { type: 'unreachable', dst: '192.168.3.0/24', protocol: 'bird', metric: 32, flags: [] },
]);
const FRR_V6 = JSON.stringify([
  { dst: 'fd00:1::/64', dev: 'br0', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
  { dst: 'fd00:49::80', nhid: 31, gateway: 'fd00:1::10', dev: 'br0', protocol: 'bgp', metric: 20, flags: [], pref: 'medium' },
  {
    dst: 'fd00:49::/64',
    nhid: 30,
    protocol: 'bgp',
    metric: 20,
    flags: [],
    pref: 'medium',
    nexthops: [
      { gateway: 'fd00:1::11', dev: 'br0', weight: 1, flags: [] },
      { gateway: 'fd00:1::9', dev: 'br0', weight: 1, flags: [] },
    ],
  },
]);

describe('lab: ip -j route parsing', () => {
  it('turns multipath and single-next-hop routes into prefix -> numerically sorted next hops', () => {
    expect(toRouteTable(parseIpRouteJson(BIRD_V4, 'inet'))).to.deep.equal({
      '10.49.0.0/16': ['192.168.1.10', '192.168.1.11', '192.168.1.12'],
      '10.49.62.131/32': ['192.168.1.11'],
    });
  });

  it('keeps kernel/connected and unreachable routes out of the table but in the detailed list', () => {
    const routes = parseIpRouteJson(BIRD_V4, 'inet');
    expect(routes.map((r) => [r.prefix, r.type, r.protocol])).to.deep.equal([
      ['10.49.0.0/16', 'unicast', 'bird'],
      ['10.49.62.131/32', 'unicast', 'bird'],
      ['172.30.0.0/24', 'unicast', 'kernel'],
      ['192.168.3.0/24', 'unreachable', 'bird'],
    ]);
  });

  it('handles FRR (proto bgp, nhid) and IPv6, with /128 for bare addresses and numeric order (::9 before ::11)', () => {
    expect(toRouteTable(parseIpRouteJson(FRR_V6, 'inet6'))).to.deep.equal({
      'fd00:49::80/128': ['fd00:1::10'],
      'fd00:49::/64': ['fd00:1::9', 'fd00:1::11'],
    });
  });

  it("reads the next hops' weights (FRR's weighted ECMP from the link bandwidth; a single next hop is 1)", () => {
    const weighted = JSON.stringify([
      {
        dst: '192.168.3.180',
        nhid: 40,
        protocol: 'bgp',
        metric: 20,
        flags: [],
        nexthops: [
          { gateway: '192.168.1.10', dev: 'br0', weight: 25, flags: [] },
          { gateway: '192.168.1.11', dev: 'br0', weight: 75, flags: [] },
        ],
      },
    ]);
    expect(parseNextHopWeights(weighted)).to.deep.equal({ '192.168.1.10': 25, '192.168.1.11': 75 });
    expect(parseNextHopWeights(FRR_V6)).to.deep.equal({ 'fd00:1::10': 1, 'fd00:1::11': 1, 'fd00:1::9': 1 });
    expect(parseNextHopWeights('')).to.deep.equal({});
  });

  it('reads empty output as no routes and rejects non-array JSON', () => {
    expect(parseIpRouteJson('\n', 'inet')).to.deep.equal([]);
    expect(() => parseIpRouteJson('{}', 'inet')).to.throw(/expected a JSON array/);
  });

  it('canonicalises prefixes', () => {
    expect(canonicalPrefix('10.49.62.131')).to.equal('10.49.62.131/32');
    expect(canonicalPrefix('FD00:49:0::1')).to.equal('fd00:49::1/128');
    expect(canonicalPrefix('default')).to.equal('default');
  });

  it('formats a table like the article prints `ip r`', () => {
    expect(formatRouteTable({ '10.49.0.0/16': ['192.168.1.10', '192.168.1.11'], '10.49.62.131/32': ['192.168.1.11'] })).to.equal(
      '10.49.0.0/16\n    nexthop via 192.168.1.10 weight 1\n    nexthop via 192.168.1.11 weight 1\n10.49.62.131 via 192.168.1.11',
    );
  });
});

describe('lab: router session parsing', () => {
  it('reads BIRD `show protocols` rows of BGP protocols only', () => {
    const text = [
      'BIRD 2.0.12 ready.',
      'Name       Proto      Table      State  Since         Info',
      'device1    Device     ---        up     11:28:27.988  ',
      'node_1     BGP        ---        up     11:28:32.400  Established   ',
      'node_2     BGP        ---        start  11:28:32.772  Active        Socket: Connection refused',
      'node_3     BGP        ---        start  2026-11-26 11:28:32  Connect',
    ].join('\n');
    const map = new Map([
      ['node_1', '192.168.1.10'],
      ['node_2', '192.168.1.11'],
      ['node_3', '192.168.1.12'],
    ]);
    expect(parseBirdProtocols(text, map).map((s) => [s.peer, s.state, s.established])).to.deep.equal([
      ['192.168.1.10', 'Established', true],
      ['192.168.1.11', 'Active', false],
      ['192.168.1.12', 'Connect', false],
    ]);
  });

  it('reads FRR `show bgp summary json`, reporting a configured peer FRR does not list as Unknown', () => {
    const json = JSON.stringify({
      ipv4Unicast: { peers: { '192.168.1.10': { state: 'Established' }, '192.168.1.11': { state: 'Active' } } },
      ipv6Unicast: { peers: { '192.168.1.10': { state: 'Established' } } },
    });
    expect(parseFrrSummary(json, ['192.168.1.10', '192.168.1.11', '192.168.1.12']).map((s) => s.state)).to.deep.equal(['Established', 'Active', 'Unknown']);
  });
});

describe('lab: generated configs', () => {
  const settings = {
    ns: 'sb0000-tor',
    dir: '/tmp/x',
    asn: 64512,
    routerId: '192.168.1.1',
    neighbors: [{ name: 'node-1', address: '192.168.1.10' }],
  };

  it('BIRD: direct protocol, merge paths, rr client, graceful restart, nothing exported to nodes by default', () => {
    const c = renderBirdConfig(settings);
    for (const line of ['protocol direct { ipv4; ipv6; }', 'merge paths on;', 'rr client;', 'graceful restart on;', 'export none;']) {
      expect(c).to.include(line);
    }
    expect(c).to.include('protocol bgp node_1 from svcbgp_node { neighbor 192.168.1.10 as 64512; }');
    expect(renderBirdConfig({ ...settings, reflectToNodes: true })).to.not.include('export none;');
  });

  it('FRR: ECMP over iBGP, graceful restart, rr clients, deny-all out unless reflecting', () => {
    const c = renderBgpdConfig(settings);
    for (const line of ['maximum-paths ibgp 16', 'bgp graceful-restart', 'neighbor NODES route-reflector-client', 'neighbor 192.168.1.10 peer-group NODES']) {
      expect(c).to.include(line);
    }
    expect(c).to.include('neighbor NODES route-map SVCBGP-NOTHING out');
    expect(renderBgpdConfig({ ...settings, reflectToNodes: true })).to.not.include('route-map SVCBGP-NOTHING out');
  });

  it('BFD on the ToR when asked: BIRD single-hop `bfd on|graceful` + a bfd protocol, FRR bfdd + neighbor bfd [check-control-plane-failure]', () => {
    expect(renderBirdConfig(settings)).to.not.match(/bfd/);
    const bird = renderBirdConfig({ ...settings, bfd: {} });
    for (const line of ['protocol bfd { interface "*" { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; }; }', '  direct;', '  bfd on;']) {
      expect(bird).to.include(line);
    }
    expect(renderBirdConfig({ ...settings, bfd: { graceful: true } })).to.include('  bfd graceful;');
    expect(renderBgpdConfig(settings)).to.not.match(/bfd/);
    expect(frrDaemons(settings)).to.deep.equal(['zebra', 'bgpd']);
    expect(renderBgpdConfig({ ...settings, bfd: {} }))
      .to.include(' neighbor NODES bfd\n')
      .and.not.include('check-control-plane-failure');
    expect(renderBgpdConfig({ ...settings, bfd: { graceful: true } })).to.include(' neighbor NODES bfd check-control-plane-failure');
    expect(frrDaemons({ ...settings, bfd: {} })).to.deep.equal(['zebra', 'bfdd', 'bgpd']);
  });

  it('gobgpd bootstrap TOML carries graceful restart per family only when asked', () => {
    const base = {
      asn: 64512,
      routerId: '192.168.1.10',
      listenPort: 179,
      peer: { address: '192.168.1.1', asn: 64512 },
      families: ['ipv4-unicast', 'ipv6-unicast'] as ('ipv4-unicast' | 'ipv6-unicast')[],
    };
    const withGr = renderGobgpdToml({ ...base, gracefulRestart: { restartTime: 60 } });
    expect(withGr).to.include('restart-time = 60');
    expect(withGr.match(/mp-graceful-restart/g)).to.have.length(2);
    expect(renderGobgpdToml(base)).to.not.include('graceful-restart');
  });

  it('the data path: which images run Debian nginx, its per-Pod config, Pod namespaces named for teardown', () => {
    for (const image of ['nginx', 'nginx:1.27', 'docker.io/library/nginx', 'registry.k8s.io/nginx@sha256:abc'])
      expect(isNginxImage(image), image).to.equal(true);
    for (const image of ['nginx-unprivileged', 'busybox', 'mynginx:1', '']) expect(isNginxImage(image), image).to.equal(false);
    const conf = nginxConfig('/tmp/x/pods/ns_p_1234', 80);
    for (const line of ['daemon off;', 'pid /tmp/x/pods/ns_p_1234/nginx.pid;', '    listen 80 default_server;', '    listen [::]:80 default_server;']) {
      expect(conf).to.include(line);
    }
    expect(conf).to.include('root /usr/share/nginx/html;');
    expect(conf.match(/_temp_path \/tmp\/x\/pods\/ns_p_1234\//g)).to.have.length(5);
    for (const ns of ['sb1a2b-p1', 'sb1a2b-p12', 'sb1a2b-n3', 'sb1a2b-tor']) expect(LAB_NS_PATTERN.test(ns), ns).to.equal(true);
    expect(LAB_NS_PATTERN.test('sb1a2b-x1')).to.equal(false);
    const host = labPodHost('sb1a2b', 3);
    expect(host.node('node-2')).to.deep.equal({ name: 'node-2', ns: 'sb1a2b-n2' });
    expect(host.prefix).to.equal('sb1a2b');
    expect(() => host.node('node-4')).to.throw(/no such lab node/);
  });
});
