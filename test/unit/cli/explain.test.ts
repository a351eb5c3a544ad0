import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClusterDump, parseLabels } from '../../../src/cli/explain.js';
import { BGP_CONFIGURATION_CLUSTER_IPS, BGP_CONFIGURATION_EXTERNAL_IPS, BGP_PEER, yamlFile } from '../../fixtures/seed/article.js';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const FIX = fileURLToPath(new URL('../../../../test/fixtures/seed/', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI as an operator would. */
function svcbgp(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 30000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const explain = (config: string, nodeName: string, ...more: string[]): Promise<Run> =>
  svcbgp('explain', '--config', FIX + config, '--cluster', `${FIX}cluster-dump.yaml`, '--node', nodeName, ...more);

interface JsonReport {
  node: { name: string; excluded: boolean };
  routes: { prefix: string; family: string; nextHop: string; reasons: { rule: string; kind: string; cidr: string; services: { name: string }[] }[] }[];
  refused: { service: { name: string }; address: string; code: string }[];
  withheld: { service: { name: string }; address: string; code: string }[];
  peers: { address: string; asNumber: number }[];
}

describe('svcbgp explain (compiled CLI, seed cluster dump)', function () {
  this.timeout(60000);

  it("the seed config files hold exactly the article's documents (test/fixtures/seed/article.ts)", async () => {
    const withoutComments = async (f: string): Promise<string> =>
      (await readFile(FIX + f, 'utf8'))
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n');
    expect(await withoutComments('config-cluster-ips.yaml')).to.equal(yamlFile(BGP_PEER, BGP_CONFIGURATION_CLUSTER_IPS));
    expect(await withoutComments('config-external-ips.yaml')).to.equal(yamlFile(BGP_PEER, BGP_CONFIGURATION_EXTERNAL_IPS));
  });

  it('seed config 1 (serviceClusterIPs): node-1 advertises the aggregate only, and says why nginx is not local there', async () => {
    const r = await explain('config-cluster-ips.yaml', 'node-1');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('Routes node-1 advertises (1):\n  10.49.0.0/16 ');
    expect(r.stdout).to.contain(
      'because serviceClusterIPs CIDR 10.49.0.0/16: advertised by every node; carries default/kubernetes (10.49.0.1), kube-system/kube-dns (10.49.0.10)',
    );
    expect(r.stdout).to.contain(
      'default/nginx 10.49.62.131  [no-local-endpoint]  externalTrafficPolicy: Local and no IPv4 endpoint on node node-1 (endpoints are on: node-2, node-3)',
    );
    expect(r.stdout).to.contain('default/nginx 192.168.3.180  [outside-configured-cidrs]');
    expect(r.stdout).to.contain('192.168.1.1 AS 64512  [BGPPeer bgppeer-global-64512; graceful restart 120s; keepalive 3s, hold 9s]');
  });

  it('seed config 1: node-2 (runs nginx) adds 10.49.62.131/32 with its reason', async () => {
    const r = await explain('config-cluster-ips.yaml', 'node-2');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(
      /Routes node-2 advertises \(2\):\n {2}10\.49\.0\.0\/16 .*\n.*\n {2}10\.49\.62\.131\/32 +IPv4 {2}next hop 0\.0\.0\.0\n +because default\/nginx \(10\.49\.62\.131\): Local traffic policy/,
    );
  });

  it('seed config 2 (serviceExternalIPs) as JSON: 192.168.3.0/24 everywhere, 192.168.3.180/32 only on node-2 and node-3', async () => {
    const got: Record<string, string[]> = {};
    for (const n of ['node-1', 'node-2', 'node-3']) {
      const r = await explain('config-external-ips.yaml', n, '--output', 'json');
      expect(r.code, r.stderr).to.equal(0);
      const rep = JSON.parse(r.stdout) as JsonReport;
      got[n] = rep.routes.map((x) => x.prefix);
      expect(rep.refused).to.deep.equal([]);
      expect(rep.peers).to.deep.equal([
        { name: 'bgppeer-global-64512', address: '192.168.1.1', port: 179, asNumber: 64512, gracefulRestartTime: 120, keepaliveTime: 3, holdTime: 9 },
      ]);
    }
    expect(got).to.deep.equal({
      'node-1': ['192.168.3.0/24'],
      'node-2': ['192.168.3.0/24', '192.168.3.180/32'],
      'node-3': ['192.168.3.0/24', '192.168.3.180/32'],
    });
  });

  it('-o is short for --output, as in svcbgp status', async () => {
    const long = await explain('config-external-ips.yaml', 'node-2', '--output', 'json');
    const short = await explain('config-external-ips.yaml', 'node-2', '-o', 'json');
    expect(short.code, short.stderr).to.equal(0);
    expect(short.stdout).to.equal(long.stdout);
    expect((await svcbgp('explain', '--help')).stdout).to.contain('-o, --output <format>');
  });

  it('JSON output is stable: the same input gives byte-identical output', async () => {
    const a = await explain('config-external-ips.yaml', 'node-2', '--output', 'json');
    const b = await explain('config-external-ips.yaml', 'node-2', '--output', 'json');
    expect(a.stdout).to.equal(b.stdout);
    const rep = JSON.parse(a.stdout) as JsonReport;
    expect(Object.keys(rep)).to.deep.equal(['node', 'config', 'peers', 'routes', 'refused', 'withheld', 'warnings', 'notes']);
    expect(rep.routes[1]?.reasons).to.deep.equal([
      {
        rule: 'local-endpoint',
        kind: 'external-ip',
        cidr: '192.168.3.0/24',
        services: [{ namespace: 'default', name: 'nginx', address: '192.168.3.180' }],
        text: 'default/nginx (192.168.3.180): Local traffic policy and a ready (or serving, terminating) endpoint on node node-2; inside serviceExternalIPs 192.168.3.0/24',
      },
    ]);
  });

  it('--node-labels: an excluded node advertises nothing, and says so', async () => {
    const r = await explain('config-cluster-ips.yaml', 'node-2', '--node-labels', 'node.kubernetes.io/exclude-from-external-load-balancers=true');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain(
      'This node advertises NOTHING: it has the label node.kubernetes.io/exclude-from-external-load-balancers (any value excludes it, as in Kubernetes).',
    );
  });

  it('an invalid configuration: exit code 2, every error on stderr, nothing on stdout', async () => {
    const r = await explain('config-invalid.yaml', 'node-2');
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr.split('\n')).to.deep.equal([
      `svcbgp explain: the configuration in ${FIX}config-invalid.yaml is invalid (3 errors); nothing was evaluated:`,
      '  error: document 2 (BGPPeer "tor-again"): spec.asNumber = 4294967296: out of range: expected an AS number 1..4294967295 (or asdot "a.b")',
      '  error: document 2 (BGPPeer "tor-again"): spec.peerIP = "192.168.1.1": duplicate peer: document 1 (BGPPeer "tor") already peers with this address for all nodes; remove one of them',
      '  error: document 3 (BGPConfiguration "default"): spec.serviceClusterIPs[0].cidr = "10.49.0.1/16": this is a host address, not a network: the bits after the prefix length must be zero; did you mean 10.49.0.0/16?',
      '  warning: document 3 (BGPConfiguration "default"): spec.nodeToNodeMeshEnabled = true: svcbgp runs no node-to-node mesh: each node peers only with the BGPPeers that select it, and the mesh carries no Service route to a router; it changes no route. Set it to false (what svcbgp does) or remove it',
      '',
    ]);
  });

  it('missing files and a broken dump: exit code 2 with a message naming the file', async () => {
    const r = await svcbgp('explain', '--cluster', '/nonexistent/dump.yaml', '--node', 'node-1');
    expect([r.code, r.stderr]).to.deep.equal([2, 'svcbgp explain: cannot read cluster dump /nonexistent/dump.yaml: no such file\n']);
    const dir = await mkdtemp(join(tmpdir(), 'svcbgp-explain-'));
    try {
      await writeFile(join(dir, 'bad.yaml'), 'items: [\n');
      const b = await svcbgp('explain', '--cluster', join(dir, 'bad.yaml'), '--node', 'node-1');
      expect(b.code).to.equal(2);
      expect(b.stderr).to.match(/^svcbgp explain: .*bad\.yaml: document 1: YAML syntax error: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without --config the defaults apply: no service CIDRs, so no routes; cluster IPs withheld as not configured', async () => {
    const r = await svcbgp('explain', '--cluster', `${FIX}cluster-dump.yaml`, '--node', 'node-2', '--output', 'json');
    const rep = JSON.parse(r.stdout) as JsonReport;
    expect(rep.routes).to.deep.equal([]);
    expect(rep.withheld.map((w) => [w.service.name, w.code])).to.deep.equal([
      ['kubernetes', 'kind-not-configured'],
      ['nginx', 'kind-not-configured'],
      ['kube-dns', 'kind-not-configured'],
    ]);
    expect(rep.refused.map((x) => x.address)).to.deep.equal(['192.168.3.180']);
  });
});

describe('explain: dump and label parsing', () => {
  it('reads a kind: List, multiple documents and JSON; counts ignored kinds', () => {
    const d = parseClusterDump(
      '{"apiVersion":"v1","kind":"List","items":[{"kind":"Service","metadata":{"name":"a"}},{"kind":"Pod"}]}\n---\nkind: EndpointSlice\naddressType: IPv4\nendpoints: []\n',
    );
    expect([d.services.length, d.endpointSlices.length, d.notes]).to.deep.equal([1, 1, ['ignored 1 object(s) of kind Pod']]);
  });

  it('labels k=v,k2=v2; a bad pair is an error', () => {
    expect(parseLabels('a=1, b=')).to.deep.equal({ a: '1', b: '' });
    expect(() => parseLabels('novalue')).to.throw(/"novalue" is not key=value/);
  });
});

describe('explain: hostile and malformed input', function () {
  this.timeout(60000);
  let dir: string;
  const CONFIG = 'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec:\n  serviceExternalIPs: [{cidr: 192.168.3.0/24}]\n';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'svcbgp-explain-hostile-'));
    await writeFile(join(dir, 'bgp.yaml'), CONFIG);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const run = async (dump: string, ...more: string[]): Promise<Run> => {
    await writeFile(join(dir, 'dump.yaml'), dump);
    return svcbgp('explain', '--config', join(dir, 'bgp.yaml'), '--cluster', join(dir, 'dump.yaml'), '--node', 'node-1', ...more);
  };
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/; // any control character but the line ends

  it('a newline in a Service name cannot forge an error line in explain', async () => {
    const r = await run(
      'kind: Service\nmetadata: {name: "a\\nerror: forged", namespace: "x\\u001b[31m"}\nspec: {externalIPs: ["8.8.8.8\\nerror: x", 8.8.4.4]}\n',
    );
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => /^\s*error:/.test(l))).to.deep.equal([]);
    expect(r.stdout).to.not.match(CONTROL);
    expect(r.stdout).to.contain('  x\\x1b[31m/a\\nerror: forged 8.8.4.4  [outside-configured-cidrs]');
    const json = await run('kind: Service\nmetadata: {name: "a\\u009b31m\\nerror: forged"}\nspec: {externalIPs: [8.8.4.4]}\n', '--output', 'json');
    expect(json.stdout).to.not.match(/[\u007f-\u009f]/);
    const rep = JSON.parse(json.stdout) as JsonReport;
    expect(rep.refused[0]!.service.name).to.equal('a\u009b31m\nerror: forged');
  });

  it('a newline or ANSI escape in a config document name or value cannot forge an error line', async () => {
    await writeFile(
      join(dir, 'evil.yaml'),
      'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: "p\\nerror: all good\\u001b[32m"}\nspec: {peerIP: "1.2.3.4\\r\\nerror: x", asNumber: 64512}\n',
    );
    const r = await svcbgp('explain', '--config', join(dir, 'evil.yaml'), '--cluster', join(dir, 'dump.yaml'), '--node', 'node-1');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.not.match(CONTROL);
    const errors = r.stderr.split('\n').filter((l) => /^\s*error:/.test(l));
    expect(errors.length).to.be.greaterThan(0);
    for (const e of errors) expect(e).to.match(/^ {2}error: document 1 \(BGPPeer "p\\nerror: all good\\u001b\[32m"\): /);
  });

  it('a Node label or address with a newline is escaped in the node line', async () => {
    const r = await run('kind: Node\nmetadata: {name: node-1, labels: {"a\\nerror: x": "b\\u001b[0m"}}\n');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.split('\n')[0]).to.equal('Node node-1 (labels: a\\nerror: x=b\\x1b[0m)');
  });

  it('a malformed Node (status.addresses: 5) gives a note naming it, not a stack trace', async () => {
    const r = await run('kind: Node\nmetadata: {name: node-1}\nstatus: {addresses: 5}\n');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.contain(`Notes on the cluster dump (1):\n  Node node-1 in ${join(dir, 'dump.yaml')}: status.addresses is not a list: 5; ignored`);
  });

  it('malformed Services and EndpointSlices (metadata: null, spec.ports: "x", spec: 5, endpoints: 5) are refused or noted, never a stack trace', async () => {
    const r = await run(
      `${[
        'kind: Service\nmetadata: null\nspec: {ports: "x"}',
        'kind: Service\nmetadata: {name: five}\nspec: 5',
        'kind: EndpointSlice\nmetadata: {name: s, namespace: default}\nendpoints: 5',
        'kind: Node\nmetadata: null',
        'kind: 7',
      ].join('\n---\n')}\n`,
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('default/(unnamed)  [invalid-service]  malformed Service: metadata is not a mapping: null; its addresses are not advertised');
    expect(r.stdout).to.contain('default/five  [invalid-service]  malformed Service: spec is not a mapping: 5; its addresses are not advertised');
    expect(r.stdout).to.contain('document 3 (EndpointSlice default/s): endpoints is not a list; its malformed parts are ignored');
    expect(r.stdout).to.contain('ignored 1 object(s) of kind 7');
  });
});
