import { cidrContains, cidrsOverlap, isCidr, parseCidr, parseIp, type ParsedCidr } from './net.js';
import { where } from './messages.js';
import { YamlNumber } from './yaml.js';
import { escapeControls, quoteValue } from '../text/escape.js';
import {
  ACCEPTED_API_VERSIONS,
  DEFAULT_ALLOCATOR_SETTINGS,
  type AllocatorSettings,
  type AssignIPs,
  type ConfigMessage,
  type DocRef,
  type GlobalBgpSettings,
  type LoadBalancerPool,
  type PoolAssignmentMode,
  type UnusedPool,
} from './types.js';
export { DEFAULT_ALLOCATOR_SETTINGS };

/**
 * Reads the documents that drive load-balancer address assignment: Calico's IPPool (projectcalico.org/v3, or the same
 * kind under svcbgp.io/v1alpha1) and `assignIPs` of KubeControllersConfiguration "default". Pure: parsed objects in,
 * typed pools and messages out. Decisions follow Calico's IPPool reference and kube-controllers'
 * loadbalancer_controller.go; a pool whose addresses svcbgp would not advertise is not used
 * (docs/allocation.md § Pools and settings).
 */

export const IPPOOL_KIND = 'IPPool';
export const KUBE_CONTROLLERS_KIND = 'KubeControllersConfiguration';

export type { AllocatorSettings, AssignIPs, LoadBalancerPool, PoolAssignmentMode, UnusedPool };

export type IpPoolsResult =
  | { ok: true; pools: LoadBalancerPool[]; unused: UnusedPool[]; settings: AllocatorSettings; warnings: ConfigMessage[] }
  | { ok: false; errors: ConfigMessage[]; warnings: ConfigMessage[] };

/** The parts of the BGP settings a pool is checked against. */
export type PoolPlacement = Pick<GlobalBgpSettings, 'serviceLoadBalancerIPs' | 'serviceClusterIPs' | 'allowAddressesInClusterIPRange'>;

/** Calico 3.30-3.32 IPPool spec fields svcbgp accepts without reading (they concern workload pools). */
const CALICO_POOL_FIELDS_NOT_READ = new Set([
  'blockSize',
  'natOutgoing',
  'nodeSelector',
  'disableBGPExport',
  'awsSubnetID',
  'ipip',
  'nat-outgoing',
  'ipipMode',
  'vxlanMode',
  'namespaceSelector',
]);
const POOL_FIELDS_READ = new Set(['cidr', 'allowedUses', 'assignmentMode', 'disabled']);
const ALLOWED_USES = ['Workload', 'Tunnel', 'LoadBalancer'] as const;
const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const render = (v: unknown): string => (v instanceof YamlNumber ? quoteValue(v.source, 80).slice(1, -1) : quoteValue(v, 80));

class Messages {
  readonly errors: ConfigMessage[] = [];
  readonly warnings: ConfigMessage[] = [];
  error(doc: DocRef, path: string, value: string | undefined, message: string): void {
    this.errors.push(makeMessage(doc, path, value, message));
  }
  warn(doc: DocRef, path: string, value: string | undefined, message: string): void {
    this.warnings.push(makeMessage(doc, path, value, message));
  }
}

/** The same line shape as every configuration message: where, field = value, what is wrong and the fix. */
function makeMessage(doc: DocRef, path: string, value: string | undefined, message: string): ConfigMessage {
  const field = path ? `${path}${value !== undefined ? ` = ${value}` : ''}: ` : value !== undefined ? `${value}: ` : '';
  const m: ConfigMessage = { doc: { ...doc }, path, message, text: `${where(doc)}: ${field}${message}` };
  if (value !== undefined) m.value = value;
  return m;
}

/**
 * The load-balancer pools and allocator settings in `docs` (1-based document numbers, List items numbered inside
 * their document, as parseConfig numbers them). Never throws.
 */
export function readIpPools(docs: readonly unknown[], placement: PoolPlacement): IpPoolsResult {
  const msgs = new Messages();
  const pools: LoadBalancerPool[] = [];
  const names = new Map<string, DocRef>();
  let settings: AllocatorSettings | undefined;

  const handle = (ref: DocRef, value: unknown): void => {
    if (!isObject(value)) return;
    const kind = value['kind'];
    if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(value['items'])) {
      for (const [j, item] of (value['items'] as unknown[]).entries()) handle({ index: ref.index, item: j + 1 }, item);
      return;
    }
    if (kind !== IPPOOL_KIND && kind !== KUBE_CONTROLLERS_KIND) return;
    const header = readHeader(msgs, ref, value, kind);
    if (!header) return;
    if (kind === KUBE_CONTROLLERS_KIND) {
      const s = readControllers(msgs, header);
      if (s && settings?.source) {
        msgs.error(
          header.ref,
          'metadata.name',
          render(header.name),
          `a second KubeControllersConfiguration "default": ${where(settings.source)} is the first; keep one`,
        );
      } else if (s) {
        settings = s;
      }
      return;
    }
    const seen = names.get(header.name);
    if (seen) {
      msgs.error(header.ref, 'metadata.name', render(header.name), `duplicate IPPool name: ${where(seen)} has the same name; names must be unique`);
      return;
    }
    names.set(header.name, header.ref);
    const pool = readPool(msgs, header);
    if (pool) pools.push(pool);
  };
  try {
    for (const [i, value] of docs.entries()) handle({ index: i + 1 }, value);
  } catch (err) {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    msgs.error({ index: 0 }, '', undefined, `internal error while reading the IP pools (please report it): ${detail}`);
  }

  reportOverlaps(msgs, pools);
  const byDoc = (a: ConfigMessage, b: ConfigMessage): number => a.doc.index - b.doc.index || (a.doc.item ?? 0) - (b.doc.item ?? 0);
  msgs.errors.sort(byDoc);
  if (msgs.errors.length > 0) {
    msgs.warnings.sort(byDoc);
    return { ok: false, errors: msgs.errors, warnings: msgs.warnings };
  }
  const { used, unused } = placePools(msgs, pools, placement);
  msgs.warnings.sort(byDoc);
  return {
    ok: true,
    pools: used.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    unused,
    settings: settings ?? DEFAULT_ALLOCATOR_SETTINGS,
    warnings: msgs.warnings,
  };
}

interface Header {
  ref: DocRef;
  name: string;
  spec: Obj;
}

function readHeader(msgs: Messages, ref: DocRef, v: Obj, kind: string): Header | undefined {
  ref.kind = kind;
  const meta = v['metadata'];
  if (isObject(meta) && typeof meta['name'] === 'string') ref.name = meta['name'];
  let ok = true;
  if (!(ACCEPTED_API_VERSIONS as readonly unknown[]).includes(v['apiVersion'])) {
    msgs.error(ref, 'apiVersion', render(v['apiVersion']), `expected one of ${ACCEPTED_API_VERSIONS.map((a) => `"${a}"`).join(', ')}`);
    ok = false;
  }
  if (!isObject(meta) || typeof meta['name'] !== 'string' || meta['name'] === '') {
    msgs.error(ref, 'metadata.name', render(isObject(meta) ? meta['name'] : meta), 'every document needs a non-empty metadata.name');
    ok = false;
  }
  for (const k of Object.keys(v)) if (!TOP_LEVEL.has(k)) msgs.warn(ref, k, undefined, 'unknown top-level field; ignored');
  const spec = v['spec'] ?? {};
  if (!isObject(spec)) {
    msgs.error(ref, 'spec', render(spec), 'expected a mapping');
    return undefined;
  }
  return ok ? { ref, name: ref.name as string, spec } : undefined;
}

/** One IPPool; undefined when it is not a load-balancer pool (no message) or is wrong (errors reported). */
function readPool(msgs: Messages, h: Header): LoadBalancerPool | undefined {
  const { ref, spec } = h;
  const uses = readAllowedUses(msgs, ref, spec['allowedUses']);
  if (!uses?.includes('LoadBalancer')) return undefined;
  let ok = true;
  const other = uses.filter((u) => u !== 'LoadBalancer');
  if (other.length > 0) {
    msgs.error(
      ref,
      'spec.allowedUses',
      render(spec['allowedUses']),
      `LoadBalancer cannot be combined with ${other.join(' or ')} (Calico refuses it too: a pod must never get a Service's address); make two pools`,
    );
    ok = false;
  }
  const cidr = readCidr(msgs, ref, spec['cidr']);
  if (!cidr) ok = false;
  const mode = spec['assignmentMode'] ?? 'Automatic';
  if (mode !== 'Automatic' && mode !== 'Manual') {
    msgs.error(
      ref,
      'spec.assignmentMode',
      render(spec['assignmentMode']),
      'expected "Automatic" (any Service may get an address) or "Manual" (only Services that ask for this pool or one of its addresses)',
    );
    ok = false;
  }
  const disabled = spec['disabled'] ?? false;
  if (typeof disabled !== 'boolean') {
    msgs.error(ref, 'spec.disabled', render(spec['disabled']), 'expected true or false (unquoted)');
    ok = false;
  }
  const ns = spec['namespaceSelector'];
  if (ns !== undefined && ns !== null && ns !== '' && ns !== 'all()') {
    msgs.error(
      ref,
      'spec.namespaceSelector',
      render(ns),
      "svcbgp does not restrict load-balancer pools by namespace; remove the selector, or give those namespaces their pool through the Services' projectcalico.org/ipv4pools / ipv6pools annotation with assignmentMode: Manual",
    );
    ok = false;
  }
  for (const field of ['ipipMode', 'vxlanMode'] as const) {
    const m = spec[field];
    if (m !== undefined && m !== null && m !== 'Never') {
      msgs.warn(
        ref,
        `spec.${field}`,
        render(m),
        'a load-balancer pool is never encapsulated (Calico: "not compatible with IPIP or VXLAN"); ignored, set it to Never',
      );
    }
  }
  if (spec['disableBGPExport'] === true) {
    msgs.warn(
      ref,
      'spec.disableBGPExport',
      'true',
      "svcbgp advertises load-balancer addresses through BGPConfiguration serviceLoadBalancerIPs, which this field does not change; remove the pool's CIDR from serviceLoadBalancerIPs to stop advertising it",
    );
  }
  for (const k of Object.keys(spec)) {
    if (!POOL_FIELDS_READ.has(k) && !CALICO_POOL_FIELDS_NOT_READ.has(k))
      msgs.warn(ref, `spec.${k}`, undefined, 'not an IPPool field (Calico 3.30-3.32); ignored');
  }
  if (!ok || !cidr) return undefined;
  return { name: h.name, cidr, assignmentMode: mode as PoolAssignmentMode, disabled: disabled as boolean, source: ref };
}

function readAllowedUses(msgs: Messages, ref: DocRef, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return ['Workload', 'Tunnel'];
  if (!Array.isArray(v) || v.some((u) => typeof u !== 'string')) {
    msgs.error(ref, 'spec.allowedUses', render(v), `expected a list of ${ALLOWED_USES.join(', ')}`);
    return undefined;
  }
  const bad = (v as string[]).filter((u) => !(ALLOWED_USES as readonly string[]).includes(u));
  if (bad.length > 0) {
    msgs.error(ref, 'spec.allowedUses', render(v), `unknown use ${render(bad[0])}; expected ${ALLOWED_USES.join(', ')}`);
    return undefined;
  }
  return v as string[];
}

function readCidr(msgs: Messages, ref: DocRef, v: unknown): ParsedCidr | undefined {
  const path = 'spec.cidr';
  if (typeof v !== 'string') {
    msgs.error(ref, path, render(v), 'expected a CIDR string such as "192.168.4.0/24" or "fd00:4::/120"');
    return undefined;
  }
  const c = parseCidr(v);
  if (isCidr(c)) return c;
  if (c.kind === 'host-bits') msgs.error(ref, path, render(v), `the bits after the prefix length must be zero; did you mean ${c.network}?`);
  else if (parseIp(v)) msgs.error(ref, path, render(v), `missing prefix length; write ${v}${v.includes(':') ? '/128' : '/32'} for a pool of one address`);
  else msgs.error(ref, path, render(v), 'not a valid CIDR; expected "address/length" such as "192.168.4.0/24"');
  return undefined;
}

function readControllers(msgs: Messages, h: Header): AllocatorSettings | undefined {
  const { ref, spec } = h;
  if (h.name !== 'default') {
    msgs.warn(ref, 'metadata.name', render(h.name), 'ignored: Calico and svcbgp read only the KubeControllersConfiguration named "default"');
    return undefined;
  }
  const controllers = spec['controllers'];
  if (controllers === undefined || controllers === null) return { ...DEFAULT_ALLOCATOR_SETTINGS, source: ref };
  if (!isObject(controllers)) {
    msgs.error(ref, 'spec.controllers', render(controllers), 'expected a mapping');
    return undefined;
  }
  const lb = controllers['loadBalancer'];
  if (lb === undefined || lb === null) return { ...DEFAULT_ALLOCATOR_SETTINGS, source: ref };
  if (!isObject(lb)) {
    msgs.error(ref, 'spec.controllers.loadBalancer', render(lb), 'expected a mapping such as {assignIPs: AllServices}');
    return undefined;
  }
  const assign = lb['assignIPs'] ?? 'AllServices';
  if (assign !== 'AllServices' && assign !== 'RequestedServicesOnly') {
    msgs.error(
      ref,
      'spec.controllers.loadBalancer.assignIPs',
      render(lb['assignIPs']),
      'expected "AllServices" (every LoadBalancer Service of ours gets an address) or "RequestedServicesOnly" (only Services that ask for an address or a pool)',
    );
    return undefined;
  }
  return { assignIPs: assign, source: ref };
}

function reportOverlaps(msgs: Messages, pools: readonly LoadBalancerPool[]): void {
  for (let i = 0; i < pools.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = pools[j] as LoadBalancerPool;
      const b = pools[i] as LoadBalancerPool;
      if (!cidrsOverlap(a.cidr, b.cidr)) continue;
      msgs.error(
        b.source,
        'spec.cidr',
        render(b.cidr.cidr),
        `overlaps IPPool ${quoteValue(a.name)} (${a.cidr.cidr}, ${escapeControls(where(a.source))}); an address may belong to one load-balancer pool only: shrink or remove one of them`,
      );
    }
  }
}

function placePools(msgs: Messages, pools: readonly LoadBalancerPool[], placement: PoolPlacement): { used: LoadBalancerPool[]; unused: UnusedPool[] } {
  const used: LoadBalancerPool[] = [];
  const unused: UnusedPool[] = [];
  for (const p of pools) {
    const inside = placement.serviceLoadBalancerIPs.some((c) => cidrContains(c, p.cidr.bytes, p.cidr.length));
    if (!inside) {
      const listed = placement.serviceLoadBalancerIPs.map((c) => c.cidr).join(', ') || 'none';
      const text = `not used: its addresses lie outside every BGPConfiguration serviceLoadBalancerIPs CIDR (${listed}), so they would never be advertised; add a CIDR that contains ${p.cidr.cidr} to serviceLoadBalancerIPs, or move the pool inside one`;
      msgs.warn(p.source, 'spec.cidr', render(p.cidr.cidr), text);
      unused.push({ name: p.name, cidr: p.cidr.cidr, reason: 'outside-service-load-balancer-ips', text });
      continue;
    }
    const clash = placement.allowAddressesInClusterIPRange ? undefined : placement.serviceClusterIPs.find((c) => cidrsOverlap(c, p.cidr));
    if (clash) {
      const text = `not used: it overlaps serviceClusterIPs ${clash.cidr}, whose addresses svcbgp refuses as load-balancer addresses (one could shadow a cluster IP); move the pool, or set allowAddressesInClusterIPRange: true in the BGPConfiguration`;
      msgs.warn(p.source, 'spec.cidr', render(p.cidr.cidr), text);
      unused.push({ name: p.name, cidr: p.cidr.cidr, reason: 'inside-service-cluster-ips', text });
      continue;
    }
    used.push(p);
  }
  return { used, unused };
}
