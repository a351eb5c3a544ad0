import { expect } from 'chai';
import { PasswordResolver } from '../../../src/agent/passwords.js';
import { memoryLogger } from '../../integration/agent/util.js';

describe('BGP passwords from Secrets', () => {
  it('reads once, re-reads after refresh(), keeps the last known value when the Secret becomes unreadable', async () => {
    let value: string | Error = 'one';
    let reads = 0;
    const { log, entries } = memoryLogger();
    const r = new PasswordResolver(async () => {
      reads++;
      if (value instanceof Error) throw value;
      return value;
    }, log);
    const ref = { name: 'bgp-secrets', key: 'tor' };
    expect(await r.resolve(ref, '192.168.1.1')).to.equal('one');
    expect(await r.resolve(ref, '192.168.1.1')).to.equal('one');
    expect(reads).to.equal(1);
    value = 'two';
    r.refresh();
    expect(await r.resolve(ref, '192.168.1.1')).to.equal('two');
    value = new Error('Secret svcbgp-system/bgp-secrets: not found');
    r.refresh();
    expect(await r.resolve(ref, '192.168.1.1')).to.equal('two');
    expect(entries.some((e) => e.message === 'cannot read BGP password Secret; keeping the last known password')).to.equal(true);
    expect(JSON.stringify(entries)).to.not.contain('two');
  });

  it('a Secret never read: undefined (the agent then leaves that peer as gobgpd has it), logged once', async () => {
    const { log, entries } = memoryLogger();
    const r = new PasswordResolver(async () => {
      throw new Error('Secret svcbgp-system/x: forbidden');
    }, log);
    expect(await r.resolve({ name: 'x', key: 'k' }, '192.168.1.1')).to.equal(undefined);
    expect(await r.resolve({ name: 'x', key: 'k' }, '192.168.1.1')).to.equal(undefined);
    expect(entries.filter((e) => e.message === 'cannot read BGP password Secret; leaving this peer as gobgpd has it')).to.have.length(1);
  });

  it('a Secret read that never answers (API server partitioned) does not hold the pass: the last known password is used', async () => {
    const { log, entries } = memoryLogger();
    let hang = false;
    const r = new PasswordResolver((_name, _key) => (hang ? new Promise<string>(() => undefined) : Promise.resolve('one')), log, 50);
    const ref = { name: 'bgp-secrets', key: 'tor' };
    expect(await r.resolve(ref, '192.168.1.1')).to.equal('one');
    hang = true;
    r.refresh();
    const outcome = await Promise.race([r.resolve(ref, '192.168.1.1'), new Promise((res) => setTimeout(() => res('still waiting'), 10_000))]);
    expect(outcome).to.equal('one');
    const entry = entries.find((e) => e.message === 'cannot read BGP password Secret; keeping the last known password');
    expect(String(entry?.error)).to.contain('no answer from the API server');
  });

  it('an empty Secret value is unresolved (never "no password": that would turn TCP MD5 off), and says so', async () => {
    const { log, entries } = memoryLogger();
    let value = '';
    const r = new PasswordResolver(async () => value, log);
    const ref = { name: 'bgp-secrets', key: 'tor' };
    expect(await r.resolve(ref, '192.168.1.1')).to.equal(undefined);
    const entry = entries.find((e) => e.message === 'cannot read BGP password Secret; leaving this peer as gobgpd has it');
    expect(String(entry?.error)).to.contain('empty password would turn TCP MD5 off');
    // Once a good value was read, an emptied Secret keeps it.
    value = 'good';
    r.refresh();
    expect(await r.resolve(ref, '192.168.1.1')).to.equal('good');
    value = '';
    r.refresh();
    expect(await r.resolve(ref, '192.168.1.1')).to.equal('good');
  });

  it('a key over the 80-byte TCP-MD5 limit is unresolved, with the limit in the message (the value never logged)', async () => {
    const { log, entries } = memoryLogger();
    const long = 'k'.repeat(81);
    const r = new PasswordResolver(async () => long, log);
    expect(await r.resolve({ name: 's', key: 'k' }, '192.168.1.1')).to.equal(undefined);
    expect(JSON.stringify(entries)).to.contain('limit of 80 bytes').and.not.to.contain(long);
  });
});
