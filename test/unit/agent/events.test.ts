import { expect } from 'chai';
import type { CoreV1Event } from '@kubernetes/client-node';
import { RefusalEvents, type EventSink } from '../../../src/kube/events.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { RefusedAddress } from '../../../src/agent/ports.js';

/** Records Events instead of sending them (the real API server path is in test/integration/agent). */
function recordingSink(fail = false): EventSink & { events: { ns: string; ev: CoreV1Event }[] } {
  const events: { ns: string; ev: CoreV1Event }[] = [];
  return {
    events,
    async create(ns, ev) {
      if (fail) throw new Error('forbidden');
      events.push({ ns, ev });
    },
  };
}

const refusal = (service: string, address: string): RefusedAddress => ({
  namespace: 'shop',
  service,
  address,
  code: 'outside-configured-cidrs',
  message: `${address} is outside every serviceExternalIPs CIDR (192.168.3.0/24)`,
  summary: 'external IP outside every serviceExternalIPs CIDR (192.168.3.0/24)',
});

describe('Events for refused addresses', () => {
  it('one Warning Event per Service address while it stays refused, naming the node and the reason', async () => {
    const sink = recordingSink();
    const ev = new RefusalEvents(sink, 'node-1', silentLogger());
    expect(await ev.report([refusal('evil', '8.8.8.8')])).to.equal(1);
    expect(await ev.report([refusal('evil', '8.8.8.8')])).to.equal(0);
    expect(await ev.report([refusal('evil', '8.8.8.8'), refusal('evil', '1.1.1.1')])).to.equal(1);
    expect(sink.events).to.have.length(2);
    const e = sink.events[0]!.ev;
    expect(sink.events[0]!.ns).to.equal('shop');
    expect(e.involvedObject).to.include({ kind: 'Service', name: 'evil', namespace: 'shop' });
    expect(e.type).to.equal('Warning');
    expect(e.reason).to.equal('AddressNotAdvertised');
    expect(e.message).to.equal('svcbgp on node node-1 does not advertise 8.8.8.8: 8.8.8.8 is outside every serviceExternalIPs CIDR (192.168.3.0/24)');
  });

  it("names the Service's uid, which `kubectl describe service` selects Events by", async () => {
    const sink = recordingSink();
    const ev = new RefusalEvents(sink, 'node-1', silentLogger());
    await ev.report([{ ...refusal('evil', '8.8.8.8'), uid: '0b7e6c1e-5d1c-4d1a-9b0e-1f2a3b4c5d6e' }]);
    expect(sink.events[0]!.ev.involvedObject.uid).to.equal('0b7e6c1e-5d1c-4d1a-9b0e-1f2a3b4c5d6e');
  });

  it('a refusal that went away and came back is reported again', async () => {
    const sink = recordingSink();
    const ev = new RefusalEvents(sink, 'node-1', silentLogger());
    await ev.report([refusal('evil', '8.8.8.8')]);
    await ev.report([]);
    await ev.report([refusal('evil', '8.8.8.8')]);
    expect(sink.events).to.have.length(2);
  });

  it('a failed create is retried on the next pass and never throws', async () => {
    const failing = recordingSink(true);
    const results: boolean[] = [];
    const ev = new RefusalEvents(failing, 'node-1', silentLogger(), (ok) => results.push(ok));
    expect(await ev.report([refusal('evil', '8.8.8.8')])).to.equal(0);
    expect(await ev.report([refusal('evil', '8.8.8.8')])).to.equal(0);
    expect(results).to.deep.equal([false, false]);
  });
});
