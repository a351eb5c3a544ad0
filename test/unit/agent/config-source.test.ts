import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, ConfigSource } from '../../../src/kube/config-source.js';
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

describe('configuration sources: file + svcbgp.io resources', () => {
  let dir: string;
  let file: string;
  let sources: ConfigSource[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-cfg-'));
    file = path.join(dir, 'bgp.yaml');
  });
  afterEach(() => {
    sources.forEach((s) => s.stop());
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
    const c = s.effective([], []);
    expect(c.global.asNumber).to.equal(64512);
    expect(c.peers.map((p) => p.address)).to.deep.equal(['192.168.1.1']);
    expect(c.global.serviceClusterIPs).to.deep.equal([]);
  });

  it('an invalid file at start-up is fatal, with every message', async () => {
    writeFileSync(file, FILE.replace('10.49.0.0/16', '10.49.0.1/16').replace('asNumber: 64512', 'asNumber: 0'));
    const err = await source().start().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect(String((err as Error).message)).to.contain('10.49.0.1/16').and.to.contain('asNumber');
  });

  it('a changed file is reloaded live (the article: switch serviceClusterIPs to serviceExternalIPs)', async () => {
    writeFileSync(file, FILE);
    let changes = 0;
    const s = source(() => changes++);
    await s.start();
    expect(s.effective([], []).global.serviceClusterIPs.map((c) => c.cidr)).to.deep.equal(['10.49.0.0/16']);
    writeFileSync(file, FILE.replace('serviceClusterIPs:\n  - cidr: 10.49.0.0/16', 'serviceClusterIPs:\n  serviceExternalIPs:\n  - cidr: 192.168.3.0/24'));
    await new Promise((r) => setTimeout(r, 100));
    expect(changes).to.equal(1);
    const c = s.effective([], []);
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
    expect(s.effective([], []).global.serviceClusterIPs.map((c) => c.cidr)).to.deep.equal(['10.49.0.0/16']);
  });

  it('a custom resource replaces the file document of the same kind and name; other names add up', async () => {
    writeFileSync(file, FILE);
    const s = source();
    await s.start();
    const c = s.effective(
      [cr('BGPPeer', 'rack-2', { peerIP: '192.168.2.1', asNumber: 64513, node: 'node-4' })],
      [cr('BGPConfiguration', 'default', { serviceExternalIPs: [{ cidr: '192.168.3.0/24' }] })],
    );
    expect(c.global.serviceClusterIPs).to.deep.equal([]);
    expect(c.global.serviceExternalIPs.map((x) => x.cidr)).to.deep.equal(['192.168.3.0/24']);
    expect(c.peers.map((p) => p.name).sort()).to.deep.equal(['bgppeer-global-64512', 'rack-2']);
  });

  it('an invalid custom resource keeps the last good merged configuration', async () => {
    writeFileSync(file, FILE);
    const s = source();
    await s.start();
    const good = s.effective([], []);
    const bad = s.effective([cr('BGPPeer', 'dup', { peerIP: '192.168.1.1', asNumber: 64512 })], []);
    expect(bad).to.equal(good);
  });
});
