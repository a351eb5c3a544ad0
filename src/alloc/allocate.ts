import type { Family } from '../model/route.js';
import type { ServiceRef } from '../model/path.js';
import { parseIp, type ParsedIp } from '../config/net.js';
import type { AllocatorSettings, LoadBalancerPool } from '../config/ip-pools.js';
import { quoteValue } from '../text/escape.js';
import { PoolSpace, compareAddresses, type PoolRange } from './pool-space.js';
import {
  ANNOTATION_IPV4_POOLS,
  ANNOTATION_IPV6_POOLS,
  ANNOTATION_LOAD_BALANCER_IPS,
  ANNOTATION_SHARING_KEY,
  FAMILY_NAME,
  classIsOurs,
  readRequest,
  serviceName,
  type LbRequest,
} from './request.js';
import { sharingProblem, type Sharer } from './sharing.js';
import type { AddedAddress, AllocationResult, Decision, FreeCode, HeldAddress, LbService, PendingCode, PoolUsage, Reason, Release } from './types.js';

/**
 * The load-balancer address allocator: pools, settings and every Service in, one decision per Service out. Pure and
 * deterministic, so agents that compute from the same view agree (docs/allocation.md § The order of a pass).
 *
 * Rules, in the order they apply:
 * 1. Order (orderServices): creationTimestamp, then namespace/name, then uid. Earlier Services win every conflict.
 * 2. Whose Service (classify): type LoadBalancer, spec.loadBalancerClass absent or svcbgp.io/bgp, and under
 *    assignIPs RequestedServicesOnly an explicit request (./request.ts). A Service that stops being ours loses
 *    exactly the addresses svcbgp wrote (./ownership.ts): decision free.
 * 3. Import before anything is handed out (importHolds): every address in any Service's status that lies in a pool is
 *    used. A Service of ours keeps each address still inside a pool, whatever the pool's mode or disabled flag,
 *    unless its own request now excludes it or an earlier Service holds it and the two may not share.
 * 4. Then each Service of ours, in order, gets what it lacks (assignMissing / obtain): the named address; else an
 *    address of a compatible Service with the same sharing key (./sharing.ts); else the lowest free address of the
 *    first eligible pool in name order. Families follow ipFamilyPolicy.
 * 5. An address released in this plan may go to another Service in the same plan; the decision names the Service
 *    whose write must land first (AddedAddress.after).
 */
export function allocate(pools: readonly LoadBalancerPool[], settings: AllocatorSettings, services: readonly LbService[]): AllocationResult {
  const space = new PoolSpace(pools);
  const entries = orderServices(services).map((svc) => classify(entryOf(svc), settings, space));
  const book = new Book();
  importHolds(entries, space, book);
  for (const e of entries) if (e.role === 'managed') assignMissing(e, space, book);
  return { decisions: entries.flatMap((e) => decide(e, space, book)), usage: poolUsage(space, book) };
}

/** Rule 1: the allocation order. */
export function orderServices(services: readonly LbService[]): LbService[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...services].sort(
    (a, b) => cmp(a.creationTimestamp, b.creationTimestamp) || cmp(a.namespace, b.namespace) || cmp(a.name, b.name) || cmp(a.uid, b.uid),
  );
}

// --- the working state ------------------------------------------------------------------------------------------

type Role = 'managed' | 'frozen' | 'free' | 'not-ours' | 'none';

interface Hold {
  ip: ParsedIp;
  range: PoolRange;
}

interface Entry {
  svc: LbService;
  ref: ServiceRef & { uid: string };
  who: string;
  /** status.loadBalancer.ingress, parsed and canonical, sorted; text that is no address is kept in `unreadable`. */
  ingress: ParsedIp[];
  unreadable: string[];
  /** The ownership condition's addresses (canonical), and those of them still in the ingress. */
  markedRaw: Set<string>;
  marked: Set<string>;
  role: Role;
  reason?: Reason<PendingCode | FreeCode>;
  request?: LbRequest;
  sharer: Sharer;
  kept: Map<Family, Hold>;
  added: Map<Family, Hold & { after?: ServiceRef & { uid: string } }>;
  releases: Release[];
  missing: Reason<PendingCode>[];
}

interface Holder {
  entry: Entry;
  /** Not a Service svcbgp manages now: its address blocks, it is never taken away or shared. */
  foreign: boolean;
}

/** Who holds each address (canonical text), which addresses each sharing key holds, what this plan releases. */
class Book {
  readonly holders = new Map<string, Holder[]>();
  readonly byKey = new Map<string, Set<string>>();
  readonly releasedBy = new Map<string, ServiceRef & { uid: string }>();

  hold(address: string, h: Holder): void {
    const list = this.holders.get(address);
    if (list) list.push(h);
    else this.holders.set(address, [h]);
    const key = h.foreign ? undefined : h.entry.sharer.sharingKey;
    if (key !== undefined) {
      const set = this.byKey.get(key);
      if (set) set.add(address);
      else this.byKey.set(key, new Set([address]));
    }
  }

  isUsed = (address: string): boolean => (this.holders.get(address)?.length ?? 0) > 0;

  release(address: string, by: ServiceRef & { uid: string }): void {
    if (!this.releasedBy.has(address)) this.releasedBy.set(address, by);
  }
}

function entryOf(svc: LbService): Entry {
  const ingress: ParsedIp[] = [];
  const unreadable: string[] = [];
  for (const text of svc.ingress) {
    const ip = parseIp(text);
    if (!ip) unreadable.push(text);
    else if (!ingress.some((x) => x.text === ip.text)) ingress.push(ip);
  }
  ingress.sort(compareAddresses);
  const markedRaw = new Set(svc.assignedBySvcbgp.flatMap((t) => parseIp(t)?.text ?? []));
  const ref = { namespace: svc.namespace, name: svc.name, uid: svc.uid };
  // Read apart from the request, so that a Service whose request cannot be read still shares by the rules.
  const key = svc.annotations[ANNOTATION_SHARING_KEY]?.trim();
  return {
    svc,
    ref,
    who: serviceName(svc),
    ingress,
    unreadable,
    markedRaw,
    marked: new Set(ingress.filter((ip) => markedRaw.has(ip.text)).map((ip) => ip.text)),
    role: 'none',
    sharer: key ? { svc, sharingKey: key } : { svc },
    kept: new Map(),
    added: new Map(),
    releases: [],
    missing: [],
  };
}

// --- rule 2: whose Service --------------------------------------------------------------------------------------

function classify(e: Entry, settings: AllocatorSettings, space: PoolSpace): Entry {
  const { svc, who } = e;
  const mine = [...e.marked].join(', ');
  if (svc.type !== 'LoadBalancer') {
    if (e.markedRaw.size > 0) {
      e.role = 'free';
      e.reason = {
        code: 'not-load-balancer',
        text: `${who} is of type ${quoteValue(svc.type)}, no longer LoadBalancer: svcbgp removes the addresses it assigned${mine ? ` (${mine})` : ''}`,
      };
    }
    return e;
  }
  if (!classIsOurs(svc)) {
    e.role = e.markedRaw.size > 0 ? 'free' : 'not-ours';
    e.reason = {
      code: 'class-not-ours',
      text: `${who} has spec.loadBalancerClass ${quoteValue(svc.loadBalancerClass)}: another implementation assigns its addresses (svcbgp serves Services without a class or with "svcbgp.io/bgp")${e.role === 'free' && mine ? `; svcbgp removes the addresses it assigned (${mine})` : ''}`,
    };
    return e;
  }
  const request = readRequest(
    svc,
    space.ranges.map((r) => r.pool),
  );
  if ('code' in request) {
    // A typo in an annotation must not take an address away: the Service keeps what it holds until it is fixed.
    e.role = 'frozen';
    e.reason = { code: request.code, text: `${request.text}; the Service keeps what it holds until this is fixed` };
    return e;
  }
  e.request = request;
  if (settings.assignIPs === 'RequestedServicesOnly' && !request.explicit) {
    e.role = e.markedRaw.size > 0 ? 'free' : 'not-ours';
    e.reason = {
      code: 'not-requested',
      text: `${who} asks for no address and assignIPs is RequestedServicesOnly (KubeControllersConfiguration "default"); annotate it with ${ANNOTATION_LOAD_BALANCER_IPS}, ${ANNOTATION_IPV4_POOLS} or ${ANNOTATION_IPV6_POOLS}, or set spec.loadBalancerClass "svcbgp.io/bgp"${e.role === 'free' && mine ? `; svcbgp removes the addresses it assigned (${mine})` : ''}`,
    };
    return e;
  }
  const foreign = [...e.ingress.filter((ip) => !e.markedRaw.has(ip.text) && !space.poolOf(ip)).map((ip) => ip.text), ...e.unreadable];
  if (foreign.length > 0) {
    // Someone else wrote this status (another controller, a person): svcbgp neither adds to it nor removes from it.
    e.role = 'frozen';
    e.reason = {
      code: 'foreign-address',
      text: `${e.who}: status.loadBalancer.ingress holds ${foreign.map((t) => quoteValue(t)).join(', ')}, which svcbgp did not assign and which lies in no load-balancer IPPool; svcbgp leaves this Service alone until that entry is removed or the pool that holds it is added`,
    };
    return e;
  }
  e.role = 'managed';
  return e;
}

// --- rule 3: import -----------------------------------------------------------------------------------------------

function importHolds(entries: readonly Entry[], space: PoolSpace, book: Book): void {
  for (const e of entries) {
    if (e.role === 'managed' || e.role === 'frozen') continue;
    for (const ip of e.ingress) {
      if (e.role === 'free' && e.marked.has(ip.text)) {
        book.release(ip.text, e.ref);
        continue;
      }
      if (space.poolOf(ip)) book.hold(ip.text, { entry: e, foreign: true });
    }
  }
  for (const e of entries) if (e.role === 'managed' || e.role === 'frozen') keepHeld(e, space, book);
  // A released address someone still holds is not free: only the unheld ones may be reused (with `after`).
  for (const address of [...book.releasedBy.keys()]) if (book.isUsed(address)) book.releasedBy.delete(address);
}

/**
 * Which of its status addresses a Service of ours keeps; the others are released, each with its reason. A frozen
 * Service (its request cannot be read, or its status holds a foreign entry) is only checked against earlier holders:
 * it keeps what it holds, but never a duplicate.
 */
function keepHeld(e: Entry, space: PoolSpace, book: Book): void {
  const frozen = e.role === 'frozen';
  const req = e.request as LbRequest;
  for (const ip of e.ingress) {
    const range = space.poolOf(ip);
    if (frozen && !range) continue;
    const release = (code: Release['code'], why: string): void => {
      e.releases.push({ address: ip.text, code, text: `${e.who}: ${ip.text} ${why}` });
      book.release(ip.text, e.ref);
    };
    if (!range) {
      release(
        'outside-every-pool',
        'left every load-balancer IPPool in use (pool deleted, shrunk, or moved out of serviceLoadBalancerIPs); svcbgp takes it back',
      );
      continue;
    }
    const family = ip.family;
    const named = frozen ? undefined : req.addresses.get(family);
    const pools = frozen ? undefined : req.pools.get(family);
    if (!frozen && !req.families.includes(family)) {
      release(
        'family-not-wanted',
        `is ${FAMILY_NAME[family]}, a family the Service does not ask for (spec.ipFamilies / ipFamilyPolicy${req.addresses.size > 0 ? ` / ${ANNOTATION_LOAD_BALANCER_IPS}` : ''})`,
      );
    } else if (named && named.text !== ip.text) {
      release('not-requested-any-more', `is not the address the Service names (${named.text}, ${ANNOTATION_LOAD_BALANCER_IPS} or spec.loadBalancerIP)`);
    } else if (pools && !pools.some((p) => p.name === range.pool.name)) {
      release(
        'not-requested-any-more',
        `lies in IPPool ${quoteValue(range.pool.name)}, not among the pools the Service names (${pools.map((p) => quoteValue(p.name)).join(', ')})`,
      );
    } else if (!frozen && e.kept.has(family)) {
      release(
        'duplicate',
        `is a second ${FAMILY_NAME[family]} address (the Service keeps ${e.kept.get(family)?.ip.text}); a Service has one address per family`,
      );
    } else {
      // Another product's Service with the same address blocks new assignments but takes nothing away from ours.
      const refusal = shareRefusal(
        e,
        (book.holders.get(ip.text) ?? []).filter((h) => !h.foreign),
      );
      if (refusal) {
        release(
          refusal.code === 'sharing-refused' ? 'sharing-refused' : 'duplicate',
          `is also held by an earlier Service and may not be shared: ${refusal.text}`,
        );
      } else if (!e.kept.has(family)) {
        e.kept.set(family, { ip, range });
        book.hold(ip.text, { entry: e, foreign: false });
      } else {
        book.hold(ip.text, { entry: e, foreign: false });
      }
    }
  }
}

/** Why `e` may not hold an address these Services hold (another product's Service never shares). */
function shareRefusal(e: Entry, holders: readonly Holder[]): Reason<'requested-address-taken' | 'sharing-refused'> | undefined {
  for (const h of holders) {
    if (h.foreign) {
      return { code: 'requested-address-taken', text: `it is in the status of ${h.entry.who}, which svcbgp does not manage` };
    }
    const p = sharingProblem(e.sharer, h.entry.sharer);
    if (!p) continue;
    if (p.code === 'no-key' || p.code === 'key-differs') {
      return { code: 'requested-address-taken', text: `${p.text}; give both Services the same svcbgp.io/sharing-key to share it` };
    }
    return { code: 'sharing-refused', text: p.text };
  }
  return undefined;
}

// --- rule 4: hand out what is missing -----------------------------------------------------------------------------

type Outcome = { family: Family; hold: Hold } | { family: Family; reason: Reason<PendingCode> };

function assignMissing(e: Entry, space: PoolSpace, book: Book): void {
  const req = e.request as LbRequest;
  const outcomes = req.families.filter((f) => !e.kept.has(f)).map((f) => obtain(e, f, space, book));
  const failures = outcomes.flatMap((o) => ('reason' in o ? [o.reason] : []));
  // RequireDualStack takes both or nothing new; SingleStack has one family; PreferDualStack takes what it can.
  const commit = failures.length === 0 || req.policy === 'PreferDualStack';
  if (commit) {
    for (const o of outcomes) {
      if (!('hold' in o)) continue;
      const after = book.isUsed(o.hold.ip.text) ? undefined : book.releasedBy.get(o.hold.ip.text);
      e.added.set(o.family, after ? { ...o.hold, after } : o.hold);
      book.hold(o.hold.ip.text, { entry: e, foreign: false });
    }
  }
  const first = failures[0];
  if (!first) return;
  if (req.policy === 'PreferDualStack' && e.kept.size + e.added.size > 0) e.missing = failures;
  else e.reason = first;
}

/** One address of `family` for the Service, or why there is none. */
function obtain(e: Entry, family: Family, space: PoolSpace, book: Book): Outcome {
  const req = e.request as LbRequest;
  const fam = FAMILY_NAME[family];
  const pending = (code: PendingCode, text: string): Outcome => ({ family, reason: { code, text: `${e.who}: ${text}` } });

  const named = req.addresses.get(family);
  if (named) {
    const range = space.poolOf(named);
    if (!range) {
      return pending(
        'outside-every-pool',
        `asks for ${named.text} (${ANNOTATION_LOAD_BALANCER_IPS} or spec.loadBalancerIP), which lies in no load-balancer IPPool in use (${poolList(space, family)}); name an address inside one, or add a pool that holds it`,
      );
    }
    if (range.pool.disabled)
      return pending(
        'pool-disabled',
        `asks for ${named.text}, in IPPool ${quoteValue(range.pool.name)}, which is disabled (spec.disabled: true): it hands out no new address`,
      );
    const refusal = shareRefusal(e, book.holders.get(named.text) ?? []);
    if (refusal) return pending(refusal.code, `asks for ${named.text}, but ${refusal.text}`);
    return { family, hold: { ip: named, range } };
  }

  const listed = req.pools.get(family);
  const ofFamily = space.ranges.filter((r) => r.family === family);
  const candidates = listed ? ofFamily.filter((r) => listed.includes(r.pool)) : ofFamily.filter((r) => r.pool.assignmentMode === 'Automatic');
  if (!listed && ofFamily.length === 0) {
    return pending(
      'no-pool-for-family',
      `wants an ${fam} address and no load-balancer IPPool in use is ${fam}; add one (allowedUses: [LoadBalancer]) inside serviceLoadBalancerIPs`,
    );
  }
  if (candidates.length === 0) {
    return pending(
      'manual-pool-not-requested',
      `every ${fam} load-balancer IPPool (${ofFamily.map((r) => quoteValue(r.pool.name)).join(', ')}) has assignmentMode Manual; name one in annotation ${family === 'ipv4-unicast' ? ANNOTATION_IPV4_POOLS : ANNOTATION_IPV6_POOLS}, or an address in ${ANNOTATION_LOAD_BALANCER_IPS}`,
    );
  }
  const open = candidates.filter((r) => !r.pool.disabled);
  if (open.length === 0) {
    return pending(
      'pool-disabled',
      `every ${fam} IPPool it may use (${candidates.map((r) => quoteValue(r.pool.name)).join(', ')}) is disabled (spec.disabled: true); enable one or add a pool`,
    );
  }

  let refused: Reason<'requested-address-taken' | 'sharing-refused'> | undefined;
  if (req.sharingKey !== undefined) {
    const shared = sharedAddress(e, family, open, space, book);
    if ('hold' in shared) return { family, hold: shared.hold };
    refused = shared.refused;
  }
  for (const r of open) {
    const address = space.lowestFree(r, book.isUsed);
    const ip = address === undefined ? undefined : parseIp(address);
    if (ip) return { family, hold: { ip, range: r } };
  }
  const full = `every address of ${open.map((r) => `${quoteValue(r.pool.name)} (${r.pool.cidr.cidr})`).join(', ')} is in use; add or enlarge a pool, or delete a Service that holds one`;
  if (refused) return pending('sharing-refused', `could share an address through its sharing key, but ${refused.text}; and ${full}`);
  return pending('pool-exhausted', full);
}

/** The lowest address of `family` that Services with the same sharing key hold and that `e` may join. */
function sharedAddress(
  e: Entry,
  family: Family,
  open: readonly PoolRange[],
  space: PoolSpace,
  book: Book,
): { hold: Hold } | { refused?: Reason<'requested-address-taken' | 'sharing-refused'> } {
  const addresses = [...(book.byKey.get(e.sharer.sharingKey as string) ?? [])]
    .flatMap((t) => parseIp(t) ?? [])
    .filter((ip) => ip.family === family)
    .sort(compareAddresses);
  let refused: Reason<'requested-address-taken' | 'sharing-refused'> | undefined;
  for (const ip of addresses) {
    const range = space.poolOf(ip);
    if (!range || !open.includes(range)) continue;
    const refusal = shareRefusal(e, book.holders.get(ip.text) ?? []);
    if (!refusal) return { hold: { ip, range } };
    refused ??= { code: refusal.code, text: `${ip.text} ${refusal.text.startsWith('it ') ? refusal.text.slice(3) : `cannot be shared: ${refusal.text}`}` };
  }
  return refused ? { refused } : {};
}

function poolList(space: PoolSpace, family: Family): string {
  const names = space.ranges.filter((r) => r.family === family).map((r) => `${quoteValue(r.pool.name)} ${r.pool.cidr.cidr}`);
  return names.length > 0 ? names.join(', ') : `no ${FAMILY_NAME[family]} pool`;
}

// --- decisions ------------------------------------------------------------------------------------------------------

function decide(e: Entry, space: PoolSpace, book: Book): Decision[] {
  if (e.role === 'none') return [];
  const base = { service: e.ref, added: [] as AddedAddress[], released: [] as string[], releases: [] as Release[] };
  if (e.role === 'free') {
    return [{ ...base, action: 'free', addresses: [], released: [...e.marked], reason: e.reason as Reason<FreeCode>, write: true }];
  }
  if (e.role === 'not-ours') return [{ ...base, action: 'pending', addresses: [], reason: e.reason as Reason<PendingCode>, write: false }];
  if (e.role === 'frozen') {
    // Keeps what it holds (svcbgp's entries; the others stay in the status untouched), less what an earlier Service holds.
    const released = e.releases.map((r) => r.address);
    const addresses = e.ingress.filter((ip) => e.marked.has(ip.text) && !released.includes(ip.text)).map((ip) => heldAddress(e, ip, space.poolOf(ip), book));
    return [{ ...base, action: 'pending', addresses, released, releases: e.releases, reason: e.reason as Reason<PendingCode>, write: released.length > 0 }];
  }
  const holds = [...e.kept.values(), ...e.added.values()].sort((a, b) => compareAddresses(a.ip, b.ip));
  const addresses = holds.map((h) => heldAddress(e, h.ip, h.range, book));
  const added = [...e.added.values()]
    .sort((a, b) => compareAddresses(a.ip, b.ip))
    .map((h): AddedAddress => (h.after ? { address: h.ip.text, after: h.after } : { address: h.ip.text }));
  const released = e.releases.map((r) => r.address);
  const markerChanges = e.markedRaw.size !== holds.length || holds.some((h) => !e.markedRaw.has(h.ip.text));
  const write = added.length > 0 || released.length > 0 || markerChanges;
  const list = addresses.map((a) => `${a.address} (${quoteValue(a.pool)})`).join(', ');
  const d: Decision = {
    service: e.ref,
    action: e.reason ? 'pending' : added.length > 0 || released.length > 0 ? 'assign' : 'keep',
    addresses,
    added,
    released,
    releases: e.releases,
    reason:
      e.reason ??
      (added.length > 0
        ? { code: 'assigned', text: `${e.who} gets ${added.map((a) => a.address).join(', ')}; it holds ${list}` }
        : { code: 'kept', text: `${e.who} keeps ${list || 'nothing'}` }),
    write,
  };
  if (e.missing.length > 0) d.missing = e.missing;
  return [d];
}

function heldAddress(e: Entry, ip: ParsedIp, range: PoolRange | undefined, book: Book): HeldAddress {
  const out: HeldAddress = { address: ip.text, family: ip.family, pool: range?.pool.name ?? '' };
  const others = (book.holders.get(ip.text) ?? [])
    .filter((h) => h.entry !== e && !h.foreign)
    .map((h) => ({ namespace: h.entry.ref.namespace, name: h.entry.ref.name }));
  if (others.length > 0)
    out.sharedWith = others.sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** Used and free addresses per pool once the plan is written (metrics, `svcbgp status`). */
function poolUsage(space: PoolSpace, book: Book): PoolUsage[] {
  const used = new Map<string, number>();
  for (const [address, holders] of book.holders) {
    if (holders.length === 0) continue;
    const ip = parseIp(address);
    const range = ip && space.poolOf(ip);
    if (range) used.set(range.pool.name, (used.get(range.pool.name) ?? 0) + 1);
  }
  return space.ranges.map((r) => {
    const n = used.get(r.pool.name) ?? 0;
    return {
      pool: r.pool.name,
      cidr: r.pool.cidr.cidr,
      family: r.family,
      assignmentMode: r.pool.assignmentMode,
      disabled: r.pool.disabled,
      size: r.size,
      used: n,
      free: r.size - BigInt(n),
    };
  });
}
