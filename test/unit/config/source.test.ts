import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, ConfigSource, type ConfigInForce, type RejectedResource } from '../../../src/config/source.js';
import type { BgpConfig } from '../../../src/config/index.js';
import type { CustomResource } from '../../../src/kube/cluster.js';
import { silentLogger } from '../../../src/log/logger.js';

const FILE = `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: bgppeer-global-64512}
spec: {peerIP: 192.168.1.1, asNumber: 64512}
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs:
  - cidr: 10.49.0.0/16
`;

const cr = (kind: string, name: string, spec: Record<string, unknown>): CustomResource => ({
  apiVersion: 'svcbgp.io/v1alpha1',
  kind,
  metadata: { name, uid: 'x', resourceVersion: '7', managedFields: [] } as CustomResource['metadata'],
  spec,
});

/** The configuration of a result that has one in force (valid or last good). */
function inForce(r: ConfigInForce): BgpConfig {
  if (r.state === 'never-valid') throw new Error(`no configuration in force: ${r.errors.join('; ')}`);
  return r.config;
}

describe('configuration sources: file + svcbgp.io resources', () => {
  let dir: string;
  let file: string;
  let sources: ConfigSource[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-cfg-'));
    file = path.join(dir, 'bgp.yaml');
  });
  afterEach(() => {
    for (const s of sources) s.stop();
    sources = [];
    rmSync(dir, { recursive: true, force: true });
  });
  const source = (onChange: () => void = () => undefined): ConfigSource => {
    const s = new ConfigSource({ file, pollMs: 20, log: silentLogger(), onChange });
    sources.push(s);
    return s;
  };

  it('without a file: the seed defaults (AS 64512, peer 192.168.1.1, no service CIDRs)', async () => {
    const s = new ConfigSource({ pollMs: 1000, log: silentLogger(), onChange: () => undefined });
    await s.start();
    const c = inForce(s.effective([], []));
    expect(c.global.asNumber).to.equal(64512);
    expect(c.peers.map((p) => p.address)).to.deep.equal(['192.168.1.1']);
    expect(c.global.serviceClusterIPs).to.deep.equal([]);
  });

  it('an invalid file at start-up is fatal, with every message', async () => {
    writeFileSync(file, FILE.replace('10.49.0.0/16', '10.49.0.1/16').replace('asNumber: 64512', 'asNumber: 0'));
    const err = await source()
      .start()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(ConfigError);
    expect(String((err as Error).message))
      .to.contain('10.49.0.1/16')
      .and.to.contain('asNumber');
  });

  it('a changed file is reloaded live (the article: switch serviceClusterIPs to serviceExternalIPs)', async () => {
    writeFileSync(file, FILE);
    let changes = 0;
    const s = source(() => changes++);
    await s.start();
    expect(inForce(s.effective([], [])).global.serviceClusterIPs.map((c) => c.cidr)).to.deep.equal(['10.49.0.0/16']);
    writeFileSync(file, FILE.replace('serviceClusterIPs:\n  - cidr: 10.49.0.0/16', 'serviceClusterIPs:\n  serviceExternalIPs:\n  - cidr: 192.168.3.0/24'));
    await new Promise((r) => setTimeout(r, 100));
    expect(changes).to.equal(1);
    const c = inForce(s.effective([], []));
    expect(c.global.serviceClusterIPs).to.deep.equal([]);
    expect(c.global.serviceExternalIPs.map((x) => x.cidr)).to.deep.equal(['192.168.3.0/24']);
  });

  it('a bad new file is ignored: the last good configuration stays', async () => {
    writeFileSync(file, FILE);
    let changes = 0;
    const s = source(() => changes++);
    await s.start();
    writeFileSync(file, 'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {serviceClusterIPs: [{cidr: nonsense}]}\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(changes).to.equal(0);
    expect(inForce(s.effective([], [])).global.serviceClusterIPs.map((c) => c.cidr)).to.deep.equal(['10.49.0.0/16']);
  });

  it('a custom resource replaces the file document of the same kind and name; other names add up', async () => {
    writeFileSync(file, FILE);
    const s = source();
    await s.start();
    const c = inForce(
      s.effective(
        [cr('BGPPeer', 'rack-2', { peerIP: '192.168.2.1', asNumber: 64513, node: 'node-4' })],
        [cr('BGPConfiguration', 'default', { serviceExternalIPs: [{ cidr: '192.168.3.0/24' }] })],
      ),
    );
    expect(c.global.serviceClusterIPs).to.deep.equal([]);
    expect(c.global.serviceExternalIPs.map((x) => x.cidr)).to.deep.equal(['192.168.3.0/24']);
    expect(c.peers.map((p) => p.name).sort()).to.deep.equal(['bgppeer-global-64512', 'rack-2']);
  });

  it('an invalid custom resource keeps the last good merged configuration', async () => {
    writeFileSync(file, FILE);
    const s = source();
    await s.start();
    const good = inForce(s.effective([], []));
    const bad = s.effective([cr('BGPPeer', 'dup', { peerIP: '192.168.1.1', asNumber: 64512 })], []);
    expect(bad.state).to.equal('last-good');
    expect(inForce(bad)).to.equal(good);
  });

  // Issue 12, class 1: a restart never falls back to built-in defaults.
  describe('a restart while the merge is invalid never applies the built-in defaults', () => {
    const started = async (onRejected?: (r: RejectedResource[]) => void): Promise<ConfigSource> => {
      writeFileSync(file, FILE);
      const s = new ConfigSource({ file, pollMs: 20, log: silentLogger(), onChange: () => undefined, ...(onRejected ? { onRejected } : {}) });
      sources.push(s);
      await s.start();
      return s;
    };

    it("a BGPPeer resource reusing the file peer's address (an addition): never-valid, fallback = the file, the resource quarantined", async () => {
      const rejected: RejectedResource[][] = [];
      const s = await started((r) => rejected.push(r));
      const r = s.effective([cr('BGPPeer', 'dup', { peerIP: '192.168.1.1', asNumber: 64512 })], []);
      expect(r.state).to.equal('never-valid');
      if (r.state !== 'never-valid') return;
      expect(r.errors.join('\n')).to.contain('duplicate peer');
      expect(r.fallback?.quarantined).to.deep.equal(['BGPPeer/dup']);
      // The fallback is the file's configuration, not the seed defaults.
      expect(r.fallback?.config.global.serviceClusterIPs.map((c) => c.cidr)).to.deep.equal(['10.49.0.0/16']);
      expect(r.fallback?.config.peers.map((p) => p.name)).to.deep.equal(['bgppeer-global-64512']);
      expect(rejected).to.have.length(1);
      expect(rejected[0]!.map((x) => `${x.kind}/${x.name}/${x.uid}`)).to.deep.equal(['BGPPeer/dup/x']);
      expect(rejected[0]![0]!.errors.join('\n')).to.contain('duplicate peer');
    });

    it('a BGPConfiguration resource with another name than default: never-valid, fallback without it', async () => {
      const s = await started();
      const r = s.effective([], [cr('BGPConfiguration', 'global', { serviceClusterIPs: [{ cidr: '10.50.0.0/16' }] })]);
      expect(r.state).to.equal('never-valid');
      if (r.state !== 'never-valid') return;
      expect(r.errors.join('\n')).to.contain("must be named 'default'");
      expect(r.fallback?.quarantined).to.deep.equal(['BGPConfiguration/global']);
    });

    it('an invalid resource that REPLACES a file document is ambiguous: no fallback at all (an empty gobgpd waits)', async () => {
      const s = await started();
      const r = s.effective([], [cr('BGPConfiguration', 'default', { serviceClusterIPs: [{ cidr: '0.0.0.0/0' }] })]);
      expect(r.state).to.equal('never-valid');
      if (r.state !== 'never-valid') return;
      expect(r.fallback).to.equal(undefined);
      expect(r.errors.join('\n')).to.contain('allowUnsafeServiceCIDRs');
    });

    it('once valid, a later invalid merge keeps the last good one (not never-valid), and valid again reports no rejected resource', async () => {
      const rejected: RejectedResource[][] = [];
      const s = await started((r) => rejected.push(r));
      expect(s.effective([], []).state).to.equal('valid');
      expect(s.effective([cr('BGPPeer', 'dup', { peerIP: '192.168.1.1', asNumber: 64512 })], []).state).to.equal('last-good');
      expect(s.effective([], []).state).to.equal('valid');
      expect(rejected.map((r) => r.length)).to.deep.equal([1, 0]);
    });
  });

  it('an emptied config file on reload is an error, not "no documents = the seed defaults"', async () => {
    writeFileSync(file, FILE);
    let changes = 0;
    const s = source(() => changes++);
    await s.start();
    for (const empty of ['', '---\n', '# all commented out\n', '---\n---\n']) {
      writeFileSync(file, empty);
      await new Promise((r) => setTimeout(r, 80));
      expect(changes, JSON.stringify(empty)).to.equal(0);
      expect(inForce(s.effective([], [])).global.serviceClusterIPs.map((c) => c.cidr)).to.deep.equal(['10.49.0.0/16']);
      expect(inForce(s.effective([], [])).peers.map((p) => p.address)).to.deep.equal(['192.168.1.1']);
    }
  });

  it('an empty config file at start-up is fatal (exit 2), with a message that says how to run on the defaults', async () => {
    writeFileSync(file, '');
    const err = await source()
      .start()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(ConfigError);
    expect(String((err as Error).message))
      .to.contain('no BGPPeer or BGPConfiguration document')
      .and.to.contain('without --config');
  });

  it('a reload that hits a YAML limit (alias bomb) keeps the last good configuration and never ends the process', async () => {
    writeFileSync(file, FILE);
    let changes = 0;
    const s = source(() => changes++);
    await s.start();
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    writeFileSync(file, `${bomb.join('\n')}\n`);
    await new Promise((r) => setTimeout(r, 100));
    expect(changes).to.equal(0);
    expect(inForce(s.effective([], [])).global.serviceClusterIPs.map((c) => c.cidr)).to.deep.equal(['10.49.0.0/16']);
  });
});
