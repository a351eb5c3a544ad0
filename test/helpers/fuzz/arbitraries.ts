/**
 * Random and adversarial inputs for the fuzz suite: cluster dumps (Services, EndpointSlices, Nodes) whose
 * every field may be missing, of the wrong type or hostile text, and BGP configuration documents.
 * Well-formed values dominate (so the deep paths of the route model are reached), hostile ones are mixed in.
 */
import fc from 'fast-check';

/** Text a tenant or a careless operator might write into a name or a value. */
export const HOSTILE_TEXT = [
  '',
  ' ',
  'a\nerror: forged line',
  'x\r\nerror: forged',
  '\u001b[31mred\u001b[0m',
  '\u009b31m',
  '\u202eevil',
  '\u2028',
  '\u0000',
  'None',
  '(unnamed)',
  'default',
  '__proto__',
  'constructor',
  'toString',
  '"quoted"',
  '\\n',
  '%s%n',
  'x'.repeat(300),
  '日本語',
];

/** Addresses near and far from the configured CIDRs below, and strings that only look like addresses. */
const IP_TEXT = [
  '10.49.0.1',
  '10.49.62.131',
  '10.49.255.255',
  '10.50.0.1',
  '192.168.3.180',
  '192.168.3.0',
  '192.168.3.255',
  '192.168.4.20',
  '192.168.4.21',
  '192.168.9.9',
  '8.8.8.8',
  '0.0.0.0',
  '255.255.255.255',
  '127.0.0.1',
  '224.0.0.1',
  'fd00:49::1',
  'fd00:3::5',
  'fd00:4::1ff',
  'fd00:4::200',
  '2001:db8::1',
  '::',
  '::1',
  'fe80::1%eth0',
  '::ffff:192.168.3.1',
  '::ffff:c0a8:301',
  '192.168.003.001',
  '0300.0250.3.1',
  '0xc0.0xa8.3.1',
  '3232236289',
  ' 192.168.3.1',
  '192.168.3.1 ',
  '192.168.3.1/32',
  '192.168.3.1\n',
  '192.168.3',
  '1.2.3.4.5',
  'fd00:3::5::1',
  'FD00:3::5',
  'fd00:0003:0000:0000:0000:0000:0000:0005',
  '[fd00:3::5]',
  'garbage',
  'None',
  '',
];

export const arbText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/) },
);

/** Any JSON-like value, including the ones no Kubernetes object ever holds. */
export const arbJunk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, undefined, 5, -1, 0, 1.5, Number.NaN, true, false, 'x', [], {}, [null], [5], { a: 1 }),
  arbText,
  fc.jsonValue({ maxDepth: 3 }),
);

/** Mostly a value from `good`, sometimes junk of any type. */
export function maybe<T>(good: fc.Arbitrary<T>, junkWeight = 1): fc.Arbitrary<T | unknown> {
  return fc.oneof({ weight: 6, arbitrary: good }, { weight: junkWeight, arbitrary: arbJunk });
}

export const arbIp: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...IP_TEXT) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 65535 }).map((n) => `10.49.${n >> 8}.${n & 255}`) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }).map((n) => `192.168.3.${n}`) },
  { weight: 1, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV6() },
  { weight: 1, arbitrary: fc.ipV4Extended() },
  { weight: 1, arbitrary: arbText },
);

const NAMES = ['nginx', 'evil', 'kube-dns', 'a', 'b'];
const NAMESPACES = ['default', 'prod', 'kube-system'];
const NODE_NAMES = ['node-1', 'node-2', 'node-3'];

export const arbName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: arbText });
export const arbNamespace = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NAMESPACES) }, { weight: 1, arbitrary: arbText });
export const arbNodeName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NODE_NAMES) }, { weight: 1, arbitrary: arbText });

/** A record whose every key may be absent. */
const partial = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<unknown> => fc.record(model, { requiredKeys: [] });

export const arbService: fc.Arbitrary<unknown> = maybe(
  fc.record(
    {
      apiVersion: fc.constant('v1'),
      kind: fc.constant('Service'),
      metadata: maybe(partial({ name: maybe(arbName), namespace: maybe(arbNamespace), uid: maybe(fc.uuid()) })),
      spec: maybe(
        partial({
          type: maybe(fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName', 'Weird')),
          clusterIP: maybe(fc.oneof(arbIp, fc.constant('None'))),
          clusterIPs: maybe(fc.array(maybe(arbIp), { maxLength: 3 })),
          externalIPs: maybe(fc.array(maybe(arbIp), { maxLength: 5 })),
          externalTrafficPolicy: maybe(fc.constantFrom('Local', 'Cluster')),
          internalTrafficPolicy: maybe(fc.constantFrom('Local', 'Cluster')),
          externalName: maybe(arbText),
          ports: maybe(
            fc.array(maybe(partial({ port: maybe(fc.integer({ min: 0, max: 70000 })), protocol: maybe(fc.constantFrom('TCP', 'UDP')) })), { maxLength: 2 }),
          ),
        }),
      ),
      status: maybe(
        partial({
          loadBalancer: maybe(partial({ ingress: maybe(fc.array(maybe(partial({ ip: maybe(arbIp), hostname: maybe(arbText) })), { maxLength: 3 })) })),
        }),
      ),
    },
    { requiredKeys: ['kind'] },
  ),
);

const arbEndpoint = maybe(
  partial({
    addresses: maybe(fc.array(arbIp, { maxLength: 2 })),
    nodeName: maybe(arbNodeName),
    conditions: maybe(partial({ ready: maybe(fc.boolean()), serving: maybe(fc.boolean()), terminating: maybe(fc.boolean()) })),
  }),
);

export const arbSlice: fc.Arbitrary<unknown> = maybe(
  fc.record(
    {
      apiVersion: fc.constant('discovery.k8s.io/v1'),
      kind: fc.constant('EndpointSlice'),
      metadata: maybe(
        partial({
          name: maybe(arbText),
          namespace: maybe(arbNamespace),
          labels: maybe(partial({ 'kubernetes.io/service-name': maybe(arbName) })),
        }),
      ),
      addressType: maybe(fc.constantFrom('IPv4', 'IPv6', 'FQDN')),
      endpoints: maybe(fc.array(arbEndpoint, { maxLength: 4 })),
    },
    { requiredKeys: ['kind'] },
  ),
);

export const arbNode: fc.Arbitrary<unknown> = maybe(
  fc.record(
    {
      kind: fc.constant('Node'),
      metadata: maybe(
        partial({
          name: maybe(arbNodeName),
          labels: maybe(
            fc.dictionary(
              fc.oneof(fc.constant('node.kubernetes.io/exclude-from-external-load-balancers'), arbText),
              maybe(fc.constantFrom('true', 'false', 'x')),
              { maxKeys: 3 },
            ),
          ),
        }),
      ),
      status: maybe(
        partial({
          addresses: maybe(
            fc.array(maybe(partial({ type: maybe(fc.constantFrom('InternalIP', 'ExternalIP', 'Hostname')), address: maybe(arbIp) })), { maxLength: 3 }),
          ),
        }),
      ),
    },
    { requiredKeys: ['kind'] },
  ),
);

/** A cluster dump as kubectl would print it: a List of items (or loose items), some of them of other kinds. */
export const arbDumpItems = fc.array(
  fc.oneof({ weight: 5, arbitrary: arbService }, { weight: 3, arbitrary: arbSlice }, { weight: 1, arbitrary: arbNode }, { weight: 1, arbitrary: arbJunk }),
  { maxLength: 12 },
);

/** The CIDRs a configuration may list (valid ones: the parser's own rules are fuzzed separately). */
export const CLUSTER_CIDRS = ['10.49.0.0/16', '10.49.62.0/24', '10.49.62.131/32', 'fd00:49::/112'];
export const EXTERNAL_CIDRS = ['192.168.3.0/24', '192.168.3.180/32', '192.168.0.0/16', 'fd00:3::/64', '8.8.8.8/32'];
export const LB_CIDRS = ['192.168.4.0/24', '192.168.4.20/32', 'fd00:4::/120', 'fd00:4::1ff/128'];

/** A BGPConfiguration "default" (as a parsed document) with a random choice of CIDRs, communities and prefixAdvertisements. */
export const arbGoodConfigDocs = fc
  .record({
    c: fc.subarray(CLUSTER_CIDRS),
    e: fc.subarray(EXTERNAL_CIDRS),
    l: fc.subarray(LB_CIDRS),
    pa: fc.subarray(['10.49.0.0/16', '192.168.3.0/24', 'fd00:3::/64', '192.168.4.20/32']),
    peerOnNode: fc.option(fc.constantFrom(...NODE_NAMES), { nil: undefined }),
  })
  .map(({ c, e, l, pa, peerOnNode }) => {
    const docs: unknown[] = [
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'BGPConfiguration',
        metadata: { name: 'default' },
        spec: {
          serviceClusterIPs: c.map((cidr) => ({ cidr })),
          serviceExternalIPs: e.map((cidr) => ({ cidr })),
          serviceLoadBalancerIPs: l.map((cidr) => ({ cidr })),
          communities: [{ name: 'svc', value: '64512:100' }],
          prefixAdvertisements: pa.map((cidr, i) => ({ cidr, communities: i % 2 ? ['svc'] : ['64512:7'] })),
        },
      },
    ];
    if (peerOnNode)
      docs.push({
        apiVersion: 'projectcalico.org/v3',
        kind: 'BGPPeer',
        metadata: { name: 'tor' },
        spec: { peerIP: '192.168.1.1', asNumber: 64512, node: peerOnNode },
      });
    return docs;
  });

/** Configuration documents of any shape: Calico's fields with random and hostile values, and junk. */
export const arbConfigDoc: fc.Arbitrary<unknown> = maybe(
  fc.record(
    {
      apiVersion: maybe(fc.constantFrom('projectcalico.org/v3', 'svcbgp.io/v1alpha1')),
      kind: maybe(fc.constantFrom('BGPPeer', 'BGPConfiguration', 'BGPPeerList', 'List')),
      metadata: maybe(partial({ name: maybe(fc.oneof(fc.constantFrom('default', 'node.node-1', 'tor'), arbText)) })),
      spec: maybe(
        partial({
          asNumber: maybe(fc.oneof(fc.integer({ min: -5, max: 4294967300 }), fc.constantFrom('64512', '1.0', '65535.65535', '0x10', '1e3', '-1', 1.0, 1.5))),
          peerIP: maybe(fc.oneof(arbIp, fc.constantFrom('192.168.1.1:179', '[fd00::1]:1179', '192.168.1.1:99999'))),
          node: maybe(arbNodeName),
          nodeSelector: maybe(
            fc.oneof(
              fc.constantFrom(
                'all()',
                'has(a)',
                "a == 'b'",
                "a in {'x','y'}",
                '!has(x) && (a != "b" || c not in {})',
                '(((',
                "a == 'unterminated",
                '&&',
                `${'!'.repeat(50)}all()`,
              ),
              arbText,
            ),
          ),
          listenPort: maybe(fc.integer({ min: -1, max: 70000 })),
          keepaliveTime: maybe(fc.constantFrom('30s', '1h', '-1s', '0s', 'forever', '1.5s', '10000000h')),
          maxRestartTime: maybe(fc.constantFrom('120s', '0s', '5m', 'x')),
          password: maybe(partial({ secretKeyRef: maybe(partial({ name: maybe(arbText), key: maybe(arbText) })) })),
          serviceClusterIPs: maybe(
            fc.array(
              maybe(
                partial({ cidr: maybe(fc.oneof(fc.constantFrom(...CLUSTER_CIDRS, '0.0.0.0/0', '::/0', '10.49.0.1/16', '10.49.0.0/33', '10.49.0.0'), arbIp)) }),
              ),
              { maxLength: 3 },
            ),
          ),
          serviceExternalIPs: maybe(fc.array(maybe(partial({ cidr: maybe(fc.oneof(fc.constantFrom(...EXTERNAL_CIDRS), arbIp)) })), { maxLength: 3 })),
          serviceLoadBalancerIPs: maybe(fc.array(maybe(partial({ cidr: maybe(fc.oneof(fc.constantFrom(...LB_CIDRS), arbIp)) })), { maxLength: 3 })),
          communities: maybe(
            fc.array(
              maybe(partial({ name: maybe(arbText), value: maybe(fc.constantFrom('64512:100', '64512:0100', '1:2:3', '65536:1', 'x', '4294967295:1:1')) })),
              { maxLength: 3 },
            ),
          ),
          prefixAdvertisements: maybe(
            fc.array(
              maybe(
                partial({
                  cidr: maybe(fc.constantFrom(...EXTERNAL_CIDRS, 'bad')),
                  communities: maybe(fc.array(maybe(fc.constantFrom('svc', '64512:1', 'nope', '1:2:3')), { maxLength: 3 })),
                  localPref: maybe(fc.integer({ min: -1, max: 4294967296 })),
                }),
              ),
              { maxLength: 2 },
            ),
          ),
        }),
      ),
    },
    { requiredKeys: [] },
  ),
);
