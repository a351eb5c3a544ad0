import { createHash } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import type { Logger } from 'winston';
import type { RefusedAddress } from '../model/path.js';
import { escapeControls } from '../text/escape.js';
import { logBounded } from '../log/bounded.js';
import { TokenBucket } from './token-bucket.js';
import { hostPrefix, parseIp, sortByPrefix } from '../config/net.js';
import { isAttributeRefusal } from '../model/path.js';

/** 'exists': an Event of that name is already there (created before this agent restarted): nothing to do. */
export type EventCreateResult = 'created' | 'exists';

export interface EventSink {
  create(namespace: string, event: CoreV1Event): Promise<EventCreateResult>;
}

export function kubeEventSink(client: KubeClient): EventSink {
  return {
    async create(namespace, body) {
      try {
        await client.post(`/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { apiVersion: 'v1', kind: 'Event', ...body });
        return 'created';
      } catch (err) {
        if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 409) return 'exists';
        throw err;
      }
    },
  };
}

/**
 * A Warning Event from this node's agent, as every svcbgp Event is reported (source.host = node, like kubelets):
 * the refusal Events here and the configuration-rejection Events (config-events.ts) differ only in what they are about.
 */
export function agentWarningEvent(nodeName: string, now: Date, about: Pick<CoreV1Event, 'metadata' | 'involvedObject' | 'reason' | 'message'>): CoreV1Event {
  return {
    ...about,
    type: 'Warning',
    source: { component: 'svcbgp', host: nodeName },
    reportingComponent: 'svcbgp.io/agent',
    reportingInstance: nodeName,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

/** How many addresses an Event message or a log line names before "... and N more". */
export const SHOWN_ADDRESSES = 3;
/** How many different reasons one Event message spells out. */
const SHOWN_REASONS = 3;
/** Refusal log lines per pass (then one summary line). */
export const MAX_REFUSAL_LOG_LINES = 20;
/**
 * Event messages are cut here: events.k8s.io/v1 rejects a note over 1 kB (validation's NoteLengthLimit);
 * core/v1 is laxer, but a message is read by a person in `kubectl describe`.
 */
const MAX_MESSAGE = 1024;

/**
 * The global Event rate limit of one agent: a burst of 20, then one per second. client-go's recorder allows a
 * source 25 Events per object, refilled one per 5 minutes (tools/record/events_cache.go, defaultSpamBurst /
 * defaultSpamQPS), but it has no global limit; the API server's EventRateLimit admission plugin is optional.
 * Every node reports on its own, so the cluster sends N nodes times this: a burst of 20 covers an ordinary bad
 * deployment (a handful of Services) at once; one per second keeps a storm of thousands of offending Services
 * from hammering the API server from every node. There is no timer: what the bucket refuses now is created on a
 * later pass (the drift pass comes every --resync-interval), and refusals remain in the log and the metrics.
 */
export const EVENT_BURST = 20;
export const EVENTS_PER_SECOND = 1;

/**
 * The Event reason of a refusal code. An address outside the configured CIDRs is AddressNotAdvertised: the Service
 * lost a route. A svcbgp.io/* annotation value is not an address and the Service keeps its routes, only without that
 * value, so it has reasons of its own an operator can select on (`kubectl get events --field-selector
 * reason=AttributeNotAllowed`): a value outside serviceAttributeLimits, or one svcbgp cannot read; AttributeNotApplied for
 * allowed values a route does not carry (a shared or aggregate prefix, no host route of its own). One reason per
 * code, so "one Event per Service and reason" stays "one Event per Service and code".
 */
export function refusalEventReason(code: string): string {
  switch (code) {
    case 'attribute-not-allowed':
      return 'AttributeNotAllowed';
    case 'invalid-annotation':
      return 'InvalidAnnotation';
    case 'attribute-not-applied':
      return 'AttributeNotApplied';
    default:
      return 'AddressNotAdvertised';
  }
}

/** All the refused addresses of one Service for one reason code: what one Event reports. */
interface Group {
  key: string;
  namespace: string;
  service: string;
  uid?: string;
  code: string;
  /** Distinct, in address order. */
  addresses: string[];
  /** Distinct address-free reasons, sorted. */
  summaries: string[];
  /** The full message when the group holds one refusal (it names the address in its own words). */
  single?: string;
}

/**
 * Turns the refused addresses of each pass into Kubernetes Events on the Service, bounded however many addresses a
 * tenant writes: one Event per (Service, reason code), a new one only when the refusal changes meaningfully, names
 * derived from the refusal so a restarted agent gets AlreadyExists instead of a copy, a global token bucket, and
 * capped log lines. Failures are logged and retried; they never block a pass (docs/design.md § Refusal Events).
 */
export class RefusalEvents {
  /** Group key -> identity of the refusal as last reported in an Event (created, exists or in flight). */
  private evented = new Map<string, string>();
  /** Group key -> identity as last logged. */
  private logged = new Map<string, string>();
  private readonly bucket: TokenBucket;

  /** `sink` undefined (`--no-events`): the refusals are still logged, bounded, and no Event is created. */
  constructor(
    private readonly sink: EventSink | undefined,
    private readonly nodeName: string,
    private readonly log: Logger,
    private readonly onResult: (ok: boolean) => void = () => undefined,
    private readonly limits: { burst: number; perSecond: number } = { burst: EVENT_BURST, perSecond: EVENTS_PER_SECOND },
  ) {
    this.bucket = new TokenBucket(limits.burst, limits.perSecond);
  }

  /** Returns the Events created by this call (for tests); creation happens in the background. */
  report(refused: readonly RefusedAddress[], now = new Date()): Promise<number> {
    const groups = groupRefusals(refused);
    const current = new Set(groups.map((g) => g.key));
    for (const k of [...this.evented.keys()]) if (!current.has(k)) this.evented.delete(k);
    for (const k of [...this.logged.keys()]) if (!current.has(k)) this.logged.delete(k);

    const toLog = groups.filter((g) => this.logged.get(g.key) !== identity(g));
    for (const g of toLog) this.logged.set(g.key, identity(g));
    logBounded(
      this.log,
      'warn',
      'addresses refused',
      toLog,
      (g) => ({
        namespace: escapeControls(g.namespace),
        service: escapeControls(g.service),
        code: g.code,
        count: g.addresses.length,
        addresses: g.addresses.slice(0, SHOWN_ADDRESSES).map(escapeControls),
        reason: escapeControls(g.single ?? g.summaries.join('; ')),
      }),
      MAX_REFUSAL_LOG_LINES,
    );

    if (this.sink === undefined) return Promise.resolve(0);
    const sink = this.sink;
    const due = groups.filter((g) => this.evented.get(g.key) !== identity(g));
    const allowed: Group[] = [];
    for (const g of due) {
      if (!this.bucket.take(now.getTime())) break;
      allowed.push(g);
    }
    if (allowed.length < due.length) {
      this.log.warn('Events for refused addresses held back by the rate limit; they follow on later passes', {
        deferred: due.length - allowed.length,
        created: allowed.length,
        burst: this.limits.burst,
        perSecond: this.limits.perSecond,
      });
    }
    for (const g of allowed) this.evented.set(g.key, identity(g));
    const failures: { g: Group; error: string }[] = [];
    return Promise.all(allowed.map((g) => this.emit(sink, g, now, failures))).then((results) => {
      logBounded(
        this.log,
        'warn',
        'could not create Event for refused addresses',
        failures,
        (f) => ({
          namespace: escapeControls(f.g.namespace),
          service: escapeControls(f.g.service),
          error: f.error,
        }),
        MAX_REFUSAL_LOG_LINES,
      );
      return results.filter((r) => r === 'created').length;
    });
  }

  private async emit(sink: EventSink, g: Group, now: Date, failures: { g: Group; error: string }[]): Promise<EventCreateResult | 'failed'> {
    const event = agentWarningEvent(this.nodeName, now, {
      metadata: { name: eventName(g, this.nodeName), namespace: g.namespace },
      // With the uid, as kubelets' Events have it: `kubectl describe` selects Events by involvedObject.uid.
      involvedObject: { apiVersion: 'v1', kind: 'Service', namespace: g.namespace, name: g.service, ...(g.uid ? { uid: g.uid } : {}) },
      reason: refusalEventReason(g.code),
      message: eventMessage(g, this.nodeName),
    });
    try {
      const result = await sink.create(g.namespace, event);
      if (result === 'created') this.onResult(true);
      return result;
    } catch (err) {
      // Forget it so a later pass tries again.
      if (this.evented.get(g.key) === identity(g)) this.evented.delete(g.key);
      this.onResult(false);
      failures.push({ g, error: escapeControls(err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)) });
      return 'failed';
    }
  }
}

/** Pure: refusals grouped by (namespace, Service, code), sorted by key. */
export function groupRefusals(refused: readonly RefusedAddress[]): Group[] {
  const byKey = new Map<string, { g: Group; addresses: Set<string>; summaries: Set<string>; messages: Set<string> }>();
  for (const r of refused) {
    const key = JSON.stringify([r.namespace, r.service, r.code]);
    let e = byKey.get(key);
    if (!e) {
      e = {
        g: { key, namespace: r.namespace, service: r.service, code: r.code, addresses: [], summaries: [] },
        addresses: new Set(),
        summaries: new Set(),
        messages: new Set(),
      };
      if (r.uid) e.g.uid = r.uid;
      byKey.set(key, e);
    }
    e.addresses.add(r.address);
    e.summaries.add(r.summary ?? r.message);
    e.messages.add(r.message);
  }
  const out: Group[] = [];
  for (const { g, addresses, summaries, messages } of byKey.values()) {
    // In address order (10.0.0.2 before 10.0.0.10), so the Event names the lowest ones; malformed ones last.
    g.addresses = sortByPrefix([...addresses], (a) => {
      const ip = parseIp(a);
      return ip ? hostPrefix(ip) : a;
    });
    g.summaries = [...summaries].sort();
    if (messages.size === 1 && addresses.size === 1) g.single = [...messages][0] as string;
    out.push(g);
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * What makes a new Event (see RefusalEvents): the reasons, and the addresses or the size class of their count; and
 * the Service's uid: one deleted and created again under its name is another object and gets its own Event
 * (`kubectl describe` selects Events by involvedObject.uid).
 */
function identity(g: Group): string {
  const n = g.addresses.length;
  const which = n <= SHOWN_ADDRESSES ? g.addresses : [`2^${Math.floor(Math.log2(n))}`];
  return JSON.stringify([g.uid ?? '', g.summaries, which]);
}

/**
 * A name the API server accepts (a DNS subdomain: the Service's name is a DNS label) and that is the same for
 * the same refusal on the same node, so a restarted agent meets its own Event (AlreadyExists) instead of copying it.
 */
function eventName(g: Group, nodeName: string): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([nodeName, g.key, identity(g)]))
    .digest('hex')
    .slice(0, 16);
  const base = g.service
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 200);
  return `${base || 'service'}.svcbgp-${hash}`;
}

/**
 * Pure: "svcbgp on node N does not advertise 100000 addresses (a, b, c, ... and 99997 more): <reason>"; for
 * annotation values "svcbgp on node N does not apply 3 annotation values (a, b, c) to this Service's routes: <reason>"
 * (a single refusal's own words already name the annotation, the value and the serviceAttributeLimits field).
 */
export function eventMessage(g: Pick<Group, 'code' | 'addresses' | 'summaries' | 'single'>, nodeName: string): string {
  const n = g.addresses.length;
  const values = isAttributeRefusal(g.code);
  let text: string;
  if (g.single !== undefined) {
    text = values
      ? `svcbgp on node ${nodeName} does not apply an annotation value: ${g.single}`
      : `svcbgp on node ${nodeName} does not advertise ${g.addresses[0] || 'this Service'}: ${g.single}`;
  } else {
    const shown = g.addresses.slice(0, SHOWN_ADDRESSES).map((a) => a || (values ? '(a whole annotation)' : '(the Service itself)'));
    const list = n > SHOWN_ADDRESSES ? `${shown.join(', ')}, ... and ${n - SHOWN_ADDRESSES} more` : shown.join(', ');
    const reasons = g.summaries.slice(0, SHOWN_REASONS).join('; ');
    const moreReasons = g.summaries.length > SHOWN_REASONS ? `; and ${g.summaries.length - SHOWN_REASONS} other reasons` : '';
    text = values
      ? `svcbgp on node ${nodeName} does not apply ${n} annotation value${n === 1 ? '' : 's'} (${list}) to this Service's routes: ${reasons}${moreReasons}`
      : `svcbgp on node ${nodeName} does not advertise ${n} address${n === 1 ? '' : 'es'} (${list}): ${reasons}${moreReasons}`;
  }
  const safe = escapeControls(text);
  return safe.length > MAX_MESSAGE ? `${safe.slice(0, MAX_MESSAGE - 3)}...` : safe;
}
