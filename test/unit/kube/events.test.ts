import { expect } from 'chai';
import type { CoreV1Event } from '@kubernetes/client-node';
import { RefusalEvents, MAX_REFUSAL_LOG_LINES, type EventSink } from '../../../src/kube/events.js';
import { ConfigRejectionEvents } from '../../../src/kube/config-events.js';
import { silentLogger } from '../../../src/log/logger.js';
import { capturingLogger } from '../../helpers/log.js';
import type { RefusedAddress } from '../../../src/model/path.js';
import { readServiceAttributes } from '../../../src/routes/service-attributes.js';
import { readServiceAttributeLimits } from '../../../src/config/service-limits.js';

/**
 * Records Events instead of sending them (the real API server path is in test/integration/agent). Like the API
 * server, it answers AlreadyExists for a name it holds; `expire()` plays the event TTL.
 */
function recordingSink(fail = false): EventSink & { events: { ns: string; ev: CoreV1Event }[]; expire(): void } {
  const events: { ns: string; ev: CoreV1Event }[] = [];
  let names = new Set<string>();
  return {
    events,
    async create(ns, ev) {
      if (fail) throw new Error('forbidden');
      const name = `${ns}/${ev.metadata?.name ?? ''}`;
      if (names.has(name)) return 'exists';
      names.add(name);
      events.push({ ns, ev });
      return 'created';
    },
    expire() {
      names = new Set();
    },
  };
}

const refusal = (service: string, address: string, namespace = 'shop'): RefusedAddress => ({
  namespace,
  service,
  address,
  code: 'outside-configured-cidrs',
  message: `external IP ${address} is outside every serviceExternalIPs CIDR (192.168.3.0/24); not advertised`,
  summary: 'external IP outside every serviceExternalIPs CIDR (192.168.3.0/24)',
});

/** n addresses 10.0.0.0, 10.0.0.1, ... in one Service. */
const many = (service: string, n: number, from = 0): RefusedAddress[] =>
  Array.from({ length: n }, (_, i) => refusal(service, `10.${((i + from) >> 16) & 255}.${((i + from) >> 8) & 255}.${(i + from) & 255}`));

/** What the agent reports for a Service's svcbgp.io/* annotations against an allow-list (src/agent/desired-state.ts's mapping). */
function annotationRefusals(service: string, annotations: Record<string, string>): RefusedAddress[] {
  const limits = readServiceAttributeLimits({ communities: ['64512:100-199'], localPref: '100-200' }).value;
  return readServiceAttributes(annotations, limits).refused.map((r) => ({
    namespace: 'shop',
    service,
    address: r.value,
    code: r.code,
    message: r.text,
    summary: r.summary,
  }));
}

const T0 = new Date('2026-01-01T00:00:00Z');
const later = (s: number): Date => new Date(T0.getTime() + s * 1000);

describe('Events for refused addresses', () => {
  it('one Warning Event per Service while it stays refused, naming the node and the reason', async () => {
    const sink = recordingSink();
    const ev = new RefusalEvents(sink, 'node-1', silentLogger());
    expect(await ev.report([refusal('evil', '8.8.8.8')], T0)).to.equal(1);
    expect(await ev.report([refusal('evil', '8.8.8.8')], T0)).to.equal(0);
    expect(sink.events).to.have.length(1);
    const e = sink.events[0]!.ev;
    expect(sink.events[0]!.ns).to.equal('shop');
    expect(e.involvedObject).to.include({ kind: 'Service', name: 'evil', namespace: 'shop' });
    expect(e.type).to.equal('Warning');
    expect(e.reason).to.equal('AddressNotAdvertised');
    expect(e.message).to.equal(
      'svcbgp on node node-1 does not advertise 8.8.8.8: external IP 8.8.8.8 is outside every serviceExternalIPs CIDR (192.168.3.0/24); not advertised',
    );
  });

  it("names the Service's uid, which `kubectl describe service` selects Events by", async () => {
    const sink = recordingSink();
    const ev = new RefusalEvents(sink, 'node-1', silentLogger());
    await ev.report([{ ...refusal('evil', '8.8.8.8'), uid: '0b7e6c1e-5d1c-4d1a-9b0e-1f2a3b4c5d6e' }], T0);
    expect(sink.events[0]!.ev.involvedObject.uid).to.equal('0b7e6c1e-5d1c-4d1a-9b0e-1f2a3b4c5d6e');
  });

  it('a Service with 100,000 foreign externalIPs creates one Event and a bounded number of log lines', async () => {
    const sink = recordingSink();
    const { log, lines } = capturingLogger();
    const ev = new RefusalEvents(sink, 'node-1', log);
    const refused = many('tenant', 100_000);
    expect(await ev.report(refused, T0)).to.equal(1);
    expect(sink.events.map((e) => e.ev.message)).to.deep.equal([
      'svcbgp on node node-1 does not advertise 100000 addresses (10.0.0.0, 10.0.0.1, 10.0.0.2, ... and 99997 more): external IP outside every serviceExternalIPs CIDR (192.168.3.0/24)',
    ]);
    expect(lines.map((l) => [l.message, l['count'], l['addresses']])).to.deep.equal([['addresses refused', 100_000, ['10.0.0.0', '10.0.0.1', '10.0.0.2']]]);
    // The next passes (drift, other Services changing) add nothing.
    await ev.report(refused, later(60));
    await ev.report([...refused, refusal('tenant', '10.200.0.1')], later(120));
    expect([sink.events.length, lines.length]).to.deep.equal([1, 1]);
  });

  it('an Event is re-emitted only when the refusal changes meaningfully: new reasons, a named address, or a count in another power of two', async () => {
    const sink = recordingSink();
    const ev = new RefusalEvents(sink, 'node-1', silentLogger());
    await ev.report([refusal('evil', '8.8.8.8')], T0);
    await ev.report([refusal('evil', '8.8.8.8'), refusal('evil', '1.1.1.1')], later(1)); // all addresses named: news
    expect(sink.events).to.have.length(2);
    expect(sink.events[1]!.ev.message).to.equal(
      'svcbgp on node node-1 does not advertise 2 addresses (1.1.1.1, 8.8.8.8): external IP outside every serviceExternalIPs CIDR (192.168.3.0/24)',
    );
    await ev.report(many('big', 1000), later(2));
    await ev.report(many('big', 1020), later(3)); // 2^9 .. 2^10-1 still
    expect(sink.events).to.have.length(3);
    await ev.report(many('big', 2100), later(4)); // 2^11: news
    expect(sink.events).to.have.length(4);
    const other = { ...refusal('big', '10.0.0.0'), summary: 'external IP: serviceExternalIPs has no IPv6 CIDR' };
    await ev.report([...many('big', 2100), other], later(5)); // a new reason: news
    expect(sink.events).to.have.length(5);
    expect(sink.events[4]!.ev.message).to.match(
      /^svcbgp on node node-1 does not advertise 2100 addresses \(.*\): external IP outside every serviceExternalIPs CIDR \(192\.168\.3\.0\/24\); external IP: serviceExternalIPs has no IPv6 CIDR$/,
    );
  });

  it('after an agent restart the same refusals create no new Events (the Event name is derived from the refusal: AlreadyExists)', async () => {
    const sink = recordingSink();
    const refused = [...many('tenant', 5000), refusal('evil', '8.8.8.8')];
    expect(await new RefusalEvents(sink, 'node-1', silentLogger()).report(refused, T0)).to.equal(2);
    expect(await new RefusalEvents(sink, 'node-1', silentLogger()).report(refused, later(10))).to.equal(0);
    // Another node reports on its own.
    expect(await new RefusalEvents(sink, 'node-2', silentLogger()).report(refused, later(10))).to.equal(2);
    expect(sink.events.map((e) => e.ev.metadata?.name)).to.satisfy((names: string[]) => names.every((n) => /^(tenant|evil)\.svcbgp-[0-9a-f]{16}$/.test(n)));
  });

  it('a Service deleted and created again under the same name (another uid) gets its own Event', async () => {
    const sink = recordingSink();
    const ev = new RefusalEvents(sink, 'node-1', silentLogger());
    await ev.report([{ ...refusal('evil', '8.8.8.8'), uid: 'uid-1' }], T0);
    await ev.report([{ ...refusal('evil', '8.8.8.8'), uid: 'uid-2' }], later(1)); // deleted and re-created between two passes
    expect(sink.events.map((e) => e.ev.involvedObject.uid)).to.deep.equal(['uid-1', 'uid-2']);
  });

  it('a refusal that went away and came back is not duplicated while its Event lives, and is reported again once it expired', async () => {
    const sink = recordingSink();
    const ev = new RefusalEvents(sink, 'node-1', silentLogger());
    await ev.report([refusal('evil', '8.8.8.8')], T0);
    await ev.report([], later(1));
    await ev.report([refusal('evil', '8.8.8.8')], later(2));
    expect(sink.events).to.have.length(1);
    sink.expire();
    await ev.report([], later(3));
    await ev.report([refusal('evil', '8.8.8.8')], later(4));
    expect(sink.events).to.have.length(2);
  });

  it('Events are rate-limited globally (a burst, then a steady rate); the rest follow on later passes', async () => {
    const sink = recordingSink();
    const { log, lines } = capturingLogger();
    const ev = new RefusalEvents(sink, 'node-1', log, () => undefined, { burst: 5, perSecond: 1 });
    const refused = Array.from({ length: 12 }, (_, i) => refusal(`svc-${String(i).padStart(2, '0')}`, '8.8.8.8'));
    expect(await ev.report(refused, T0)).to.equal(5);
    expect(lines.filter((l) => l.message.startsWith('Events for refused addresses held back')).map((l) => l['deferred'])).to.deep.equal([7]);
    expect(await ev.report(refused, T0)).to.equal(0); // no time passed: no token
    expect(await ev.report(refused, later(3))).to.equal(3);
    expect(await ev.report(refused, later(600))).to.equal(4); // refilled, capped at the burst
    expect(new Set(sink.events.map((e) => e.ev.involvedObject.name)).size).to.equal(12);
  });

  it('an annotation value outside serviceAttributeLimits: its own reason AttributeNotAllowed, naming the annotation, the value and the field to change', async () => {
    const sink = recordingSink();
    const ev = new RefusalEvents(sink, 'node-1', silentLogger());
    await ev.report(annotationRefusals('web', { 'svcbgp.io/communities': '64512:150, 64512:999' }), T0);
    expect(sink.events).to.have.length(1);
    const e = sink.events[0]!.ev;
    expect([e.type, e.reason, e.involvedObject.name]).to.deep.equal(['Warning', 'AttributeNotAllowed', 'web']);
    expect(e.message).to.equal(
      'svcbgp on node node-1 does not apply an annotation value: community 64512:999 in annotation svcbgp.io/communities is outside ' +
        "serviceAttributeLimits.communities (64512:100-199); the Service's routes are advertised without it " +
        '(to allow it, add it to spec.serviceAttributeLimits.communities in the BGPConfiguration "default")',
    );
  });

  it('annotation refusals stay bounded: one Event per Service and reason, however many values; unreadable values are InvalidAnnotation', async () => {
    const sink = recordingSink();
    const ev = new RefusalEvents(sink, 'node-1', silentLogger());
    const values = Array.from({ length: 32 }, (_, i) => `65000:${i}`).join(' ');
    const refused = annotationRefusals('tenant', { 'svcbgp.io/communities': `${values} 64512:1x`, 'svcbgp.io/local-pref': '900' });
    expect(await ev.report(refused, T0)).to.equal(2);
    expect(await ev.report(refused, later(60))).to.equal(0);
    const byReason = Object.fromEntries(sink.events.map((x) => [x.ev.reason, x.ev.message]));
    expect(Object.keys(byReason).sort()).to.deep.equal(['AttributeNotAllowed', 'InvalidAnnotation']);
    // 32 communities (the 32-value cap leaves 64512:1x unread: one InvalidAnnotation) and the local-pref, in one Event:
    // the first 3 values named, the other 29 one refusal of their own ("(29 more)"), however many a tenant writes.
    expect(refused.filter((r) => r.code === 'attribute-not-allowed')).to.have.length(5);
    expect(byReason['AttributeNotAllowed']).to.match(
      /^svcbgp on node node-1 does not apply 5 annotation values \(\(29 more\), 65000:0, 65000:1, \.\.\. and 2 more\) to this Service's routes: /,
    );
    expect(byReason['AttributeNotAllowed']).to.contain('29 more value(s) refused');
    expect(byReason['AttributeNotAllowed'])
      .to.contain('outside serviceAttributeLimits.communities (64512:100-199)')
      .and.to.contain('outside serviceAttributeLimits.localPref (100-200)');
    expect(byReason['InvalidAnnotation']).to.equal(
      'svcbgp on node node-1 does not apply an annotation value: annotation svcbgp.io/communities lists more than 32 values; the first 32 are read, the rest is ignored',
    );
  });

  it('refusal log lines are capped per pass with one "... and N more" line', async () => {
    const { log, lines } = capturingLogger();
    const ev = new RefusalEvents(recordingSink(), 'node-1', log, () => undefined, { burst: 1000, perSecond: 1 });
    const refused = Array.from({ length: 500 }, (_, i) => refusal(`svc-${i}`, '8.8.8.8'));
    await ev.report(refused, T0);
    const refusedLines = lines.filter((l) => l.message.startsWith('addresses refused'));
    expect(refusedLines).to.have.length(MAX_REFUSAL_LOG_LINES + 1);
    expect(refusedLines.at(-1)).to.include({ message: `addresses refused: ... and ${500 - MAX_REFUSAL_LOG_LINES} more`, more: 500 - MAX_REFUSAL_LOG_LINES });
  });

  it('a newline or ANSI escape in a refusal cannot forge a line in an Event message or a log line', async () => {
    const sink = recordingSink();
    const { log, lines } = capturingLogger();
    const ev = new RefusalEvents(sink, 'node-1', log);
    const evil = { ...refusal('evil', '8.8.8.8\nerror: x\u001b[31m'), message: 'external IP "8.8.8.8\nerror: x" \u009b31mis bad' };
    await ev.report([evil], T0);
    expect(sink.events[0]!.ev.message).to.equal(
      'svcbgp on node node-1 does not advertise 8.8.8.8\\nerror: x\\x1b[31m: external IP "8.8.8.8\\nerror: x" \\x9b31mis bad',
    );
    expect(JSON.stringify(lines)).to.not.match(/[\u007f-\u009f]/);
    expect(lines[0]!['addresses']).to.deep.equal(['8.8.8.8\\nerror: x\\x1b[31m']);
  });

  it('without an Event sink (--no-events) refusals are still logged, bounded, once per change', async () => {
    const { log, lines } = capturingLogger();
    const ev = new RefusalEvents(undefined, 'node-1', log);
    expect(await ev.report(many('tenant', 100_000), T0)).to.equal(0);
    expect(await ev.report(many('tenant', 100_000), later(60))).to.equal(0);
    expect(lines.map((l) => [l.message, l['count']])).to.deep.equal([['addresses refused', 100_000]]);
  });

  it('a failed create is retried on the next pass and never throws; failures are logged bounded', async () => {
    const failing = recordingSink(true);
    const results: boolean[] = [];
    const { log, lines } = capturingLogger();
    const ev = new RefusalEvents(failing, 'node-1', log, (ok) => results.push(ok));
    expect(await ev.report([refusal('evil', '8.8.8.8')], T0)).to.equal(0);
    expect(await ev.report([refusal('evil', '8.8.8.8')], later(5))).to.equal(0);
    expect(results).to.deep.equal([false, false]);
    expect(lines.filter((l) => l.message === 'could not create Event for refused addresses')).to.have.length(2);
  });
});

describe('Events for rejected configuration resources', () => {
  it('a newline or ANSI escape in a config message cannot forge a line in the InvalidConfiguration Event', async () => {
    const sink = recordingSink();
    const ev = new ConfigRejectionEvents(sink, 'node-1', silentLogger());
    await ev.report([{ kind: 'BGPPeer', name: 'p', errors: ['spec.nodeSelector = "x": unexpected character \'\n\' at position 2\u001b[31m'] }], T0);
    expect(sink.events[0]!.ev.message).to.equal(
      'svcbgp on node node-1 rejects this BGPPeer, so the configuration is invalid (nothing from it is applied): spec.nodeSelector = "x": unexpected character \'\\n\' at position 2\\x1b[31m',
    );
  });
});
