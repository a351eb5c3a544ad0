import { cidrsOverlap, MIN_SERVICE_PREFIX_LENGTH, reservedRangeOf, type ParsedCidr } from './net.js';
import { readServiceAttributeLimits, readWeightedEcmp } from './service-limits.js';
import { BGPCONFIGURATION_CHECKS, calicoFieldProblems } from './calico-fields.js';
import { checkOtherFields, readAsNumber, readCidrList, readPort, type Obj } from './field-readers.js';
import { readCommunities, readPrefixAdvertisements } from './prefix-advertisements.js';
import { render, reportProblems, type Messages } from './messages.js';
import { DEFAULT_AS_NUMBER, DEFAULT_LISTEN_PORT, type DocRef, type GlobalBgpSettings, type NodeBgpOverride } from './types.js';

/**
 * BGPConfiguration documents: "default" holds the cluster-wide settings, "node.<nodename>" overrides what Calico
 * lets a node override; any other name is an error where Calico ignores it silently (docs/design.md § Reading the
 * configuration).
 */

const GLOBAL_FIELDS = new Set([
  'asNumber',
  'listenPort',
  'serviceClusterIPs',
  'serviceExternalIPs',
  'serviceLoadBalancerIPs',
  'serviceLoadBalancerAggregation',
  'communities',
  'prefixAdvertisements',
  'bindMode',
  'allowUnsafeServiceCIDRs',
  'weightedECMP',
  'serviceAttributeLimits',
  'allowAddressesInClusterIPRange',
]);
export const SERVICE_CIDR_FIELDS = ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const;

const NODE_PREFIX = 'node.';

/** What one BGPConfiguration holds, by its name; undefined when it was refused. */
export type BgpConfigurationDoc = { global: GlobalBgpSettings } | { override: NodeBgpOverride };

export function readBgpConfiguration(msgs: Messages, ref: DocRef, name: string, spec: Obj): BgpConfigurationDoc | undefined {
  if (name === 'default') {
    const global = readGlobal(msgs, ref, spec);
    return global ? { global } : undefined;
  }
  if (name.startsWith(NODE_PREFIX) && name.length > NODE_PREFIX.length) {
    const override = readNodeOverride(msgs, ref, name.slice(NODE_PREFIX.length), spec);
    return override ? { override } : undefined;
  }
  msgs.error(
    ref,
    'metadata.name',
    render(name),
    "a BGPConfiguration must be named 'default' (cluster-wide settings) or 'node.<nodename>' (per-node listenPort/prefixAdvertisements)",
  );
  return undefined;
}

function readGlobal(msgs: Messages, ref: DocRef, spec: Obj): GlobalBgpSettings | undefined {
  checkOtherFields(msgs, ref, spec, GLOBAL_FIELDS, BGPCONFIGURATION_CHECKS);
  const before = msgs.errors.length;
  const asNumber = spec['asNumber'] === undefined || spec['asNumber'] === null ? DEFAULT_AS_NUMBER : readAsNumber(msgs, ref, 'spec.asNumber', spec['asNumber']);
  const listenPort =
    spec['listenPort'] === undefined || spec['listenPort'] === null ? DEFAULT_LISTEN_PORT : readPort(msgs, ref, 'spec.listenPort', spec['listenPort']);
  const clusterIPs = readCidrList(msgs, ref, 'spec.serviceClusterIPs', spec['serviceClusterIPs']);
  const externalIPs = readCidrList(msgs, ref, 'spec.serviceExternalIPs', spec['serviceExternalIPs']);
  const lbIPs = readCidrList(msgs, ref, 'spec.serviceLoadBalancerIPs', spec['serviceLoadBalancerIPs']);
  const allowUnsafe = spec['allowUnsafeServiceCIDRs'];
  if (allowUnsafe !== undefined && allowUnsafe !== null && typeof allowUnsafe !== 'boolean') {
    msgs.error(ref, 'spec.allowUnsafeServiceCIDRs', render(allowUnsafe), 'expected true or false (svcbgp extension)');
  }
  const aggregation = spec['serviceLoadBalancerAggregation'];
  if (aggregation !== undefined && aggregation !== null && aggregation !== 'Enabled' && aggregation !== 'Disabled') {
    msgs.error(ref, 'spec.serviceLoadBalancerAggregation', render(aggregation), "expected Enabled or Disabled (Calico's values, case-sensitive)");
  }
  const bindMode = spec['bindMode'];
  if (bindMode !== undefined && bindMode !== null && bindMode !== '' && bindMode !== 'None' && bindMode !== 'NodeIP') {
    msgs.error(ref, 'spec.bindMode', render(bindMode), "expected None or NodeIP (Calico's values, case-sensitive)");
  }
  const lists = { serviceClusterIPs: clusterIPs, serviceExternalIPs: externalIPs, serviceLoadBalancerIPs: lbIPs };
  checkServiceCidrSafety(msgs, ref, lists, allowUnsafe === true);
  const communities = readCommunities(msgs, ref, spec['communities']);
  const pas = readPrefixAdvertisements(msgs, ref, spec['prefixAdvertisements'], communities ?? new Map());
  const weighted = reportProblems(msgs, ref, readWeightedEcmp(spec['weightedECMP']));
  const limits = reportProblems(msgs, ref, readServiceAttributeLimits(spec['serviceAttributeLimits']));
  if (msgs.errors.length > before || asNumber === undefined || listenPort === undefined || !clusterIPs || !externalIPs || !lbIPs || !pas) return undefined;
  const inClusterRange = spec['allowAddressesInClusterIPRange'];
  if (inClusterRange !== undefined && inClusterRange !== null && typeof inClusterRange !== 'boolean') {
    msgs.error(ref, 'spec.allowAddressesInClusterIPRange', render(inClusterRange), 'expected true or false (svcbgp extension)');
    return undefined;
  }
  return {
    asNumber,
    listenPort,
    serviceClusterIPs: clusterIPs,
    serviceExternalIPs: externalIPs,
    serviceLoadBalancerIPs: lbIPs,
    prefixAdvertisements: pas,
    ...(aggregation === 'Enabled' || aggregation === 'Disabled' ? { serviceLoadBalancerAggregation: aggregation } : {}),
    ...(bindMode === 'None' || bindMode === 'NodeIP' ? { bindMode } : {}),
    ...(weighted ? { weightedEcmp: weighted } : {}),
    ...(limits ? { serviceAttributeLimits: limits } : {}),
    ...(inClusterRange === true ? { allowAddressesInClusterIPRange: true } : {}),
    source: ref,
  };
}

/**
 * Service CIDRs are an allow-list: an external or load-balancer IP is advertised only inside one. A very short
 * prefix (0.0.0.0/0, ::/0, 10.0.0.0/7) lets any tenant pull nearly any address into the network, and a range
 * that overlaps loopback, link-local, multicast or other reserved space is never a real Service range. Both are
 * refused unless the operator opts in with `allowUnsafeServiceCIDRs: true` (then a warning names each one).
 */
function checkServiceCidrSafety(
  msgs: Messages,
  ref: DocRef,
  lists: Record<(typeof SERVICE_CIDR_FIELDS)[number], ParsedCidr[] | undefined>,
  allowUnsafe: boolean,
): void {
  const optIn = 'set spec.allowUnsafeServiceCIDRs: true to accept it anyway';
  const all: { path: string; c: ParsedCidr }[] = [];
  for (const field of SERVICE_CIDR_FIELDS) {
    (lists[field] ?? []).forEach((c, i) => {
      const path = `spec.${field}[${i}].cidr`;
      all.push({ path, c });
      const min = MIN_SERVICE_PREFIX_LENGTH[c.family];
      const reserved = reservedRangeOf(c);
      const problem =
        c.length < min
          ? `a /${c.length} is shorter than /${min}: as an allow-list it admits almost any address, so a Service could pull nearly any prefix into the network`
          : reserved !== undefined
            ? `overlaps ${reserved}, which is never a Service range`
            : undefined;
      if (problem === undefined) return;
      if (allowUnsafe) msgs.warn(ref, path, render(c.cidr), `${problem}; accepted because allowUnsafeServiceCIDRs is true`);
      else msgs.error(ref, path, render(c.cidr), `${problem}; ${optIn}`);
    });
  }
  // Overlaps between service CIDRs are legal (a /32 external IP inside a wider range) but usually a typo.
  for (const [i, a] of all.entries()) {
    for (const b of all.slice(i + 1)) {
      if (cidrsOverlap(a.c, b.c)) {
        msgs.warn(ref, b.path, render(b.c.cidr), `overlaps ${a.path} (${a.c.cidr}); every node advertises both prefixes`);
      }
    }
  }
}

const NODE_FIELDS = new Set(['listenPort', 'prefixAdvertisements', 'communities']);

/**
 * Calico's confd reads listenPort, prefixAdvertisements and logSeverityScreen from a node.<nodename> document
 * (client.go, the perNodeConfigNamePrefix branch) and nothing else; svcbgp reads the first two (and communities, for
 * the names prefixAdvertisements use) and says what the third means here.
 */
function readNodeOverride(msgs: Messages, ref: DocRef, node: string, spec: Obj): NodeBgpOverride | undefined {
  for (const [k, v] of Object.entries(spec)) {
    if (NODE_FIELDS.has(k)) continue;
    if (k === 'logSeverityScreen') reportProblems(msgs, ref, { value: undefined, problems: calicoFieldProblems(k, v, BGPCONFIGURATION_CHECKS) });
    else if (GLOBAL_FIELDS.has(k) || Object.hasOwn(BGPCONFIGURATION_CHECKS, k)) {
      msgs.warn(
        ref,
        `spec.${k}`,
        undefined,
        "Calico and svcbgp read it only from the BGPConfiguration named 'default' (a node.<nodename> document may set listenPort and prefixAdvertisements); ignored here",
      );
    } else {
      msgs.warn(ref, `spec.${k}`, undefined, 'unknown field; ignored (supported per node: listenPort, prefixAdvertisements, communities)');
    }
  }
  const before = msgs.errors.length;
  const o: NodeBgpOverride = { node, source: ref };
  if (spec['listenPort'] !== undefined && spec['listenPort'] !== null) {
    const port = readPort(msgs, ref, 'spec.listenPort', spec['listenPort']);
    if (port !== undefined) o.listenPort = port;
  }
  const communities = readCommunities(msgs, ref, spec['communities']);
  if (spec['prefixAdvertisements'] !== undefined && spec['prefixAdvertisements'] !== null) {
    const pas = readPrefixAdvertisements(msgs, ref, spec['prefixAdvertisements'], communities ?? new Map());
    if (pas) o.prefixAdvertisements = pas;
  }
  return msgs.errors.length > before ? undefined : o;
}
