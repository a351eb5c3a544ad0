import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { inClusterTarget, kubeConfigFromFiles, kubeConfigFromText, loadKubeConfig } from '../../../src/kube/kubeconfig.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const kubeconfig = (user: string, cluster = `server: https://10.0.0.1:6443/\n    certificate-authority-data: ${b64('CA PEM')}`): string => `apiVersion: v1
kind: Config
current-context: ops
contexts:
- name: other
  context: {cluster: nowhere, user: nobody}
- name: ops
  context:
    cluster: prod
    user: admin
    namespace: svcbgp-system
clusters:
- name: prod
  cluster:
    ${cluster}
users:
- name: admin
  user:
${user}
`;

describe('kube: kubeconfig', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'svcbgp-kc-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the current context: server (no trailing slash), CA data, client certificate and key data, namespace', () => {
    const { target, namespace } = kubeConfigFromText(kubeconfig(`    client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}`), dir);
    expect(target.server).to.equal('https://10.0.0.1:6443');
    expect(target.ca?.toString()).to.equal('CA PEM');
    expect(target.cert?.toString()).to.equal('CERT');
    expect(target.key?.toString()).to.equal('KEY');
    expect(target.plugin).to.equal(undefined);
    expect(namespace).to.equal('svcbgp-system');
  });

  it("reads files relative to the kubeconfig's directory; a token wins over a tokenFile; insecure and tls-server-name are kept", () => {
    writeFileSync(join(dir, 'ca.crt'), 'CA FROM FILE');
    const t = kubeConfigFromText(
      kubeconfig(
        '    token: abc\n    tokenFile: /nonexistent',
        'server: https://api:6443\n    certificate-authority: ca.crt\n    insecure-skip-tls-verify: true\n    tls-server-name: kubernetes',
      ),
      dir,
    ).target;
    expect(t.ca?.toString()).to.equal('CA FROM FILE');
    expect(t.token).to.equal('abc');
    expect(t.tokenFile).to.equal(undefined);
    expect(t.insecureSkipTlsVerify).to.equal(true);
    expect(t.tlsServerName).to.equal('kubernetes');
    expect(kubeConfigFromText(kubeconfig('    tokenFile: tok'), dir).target.tokenFile).to.equal(join(dir, 'tok'));
  });

  it('an exec or auth-provider user is handed to client-node (plugin), with the text and directory', () => {
    const t = kubeConfigFromText(kubeconfig('    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws'), dir).target;
    expect(t.plugin?.dir).to.equal(dir);
    expect(t.plugin?.kubeconfig).to.contain('command: aws');
  });

  it('errors name what is missing', () => {
    expect(() => kubeConfigFromText('apiVersion: v1\nkind: Config\n', dir)).to.throw('no current-context');
    expect(() => kubeConfigFromText(kubeconfig('    token: x').replace('cluster: prod', 'cluster: dev'), dir)).to.throw('no cluster named "dev" in clusters');
    expect(() => kubeConfigFromText(kubeconfig('    token: x', 'insecure-skip-tls-verify: true'), dir)).to.throw('cluster "prod" has no server');
    const file = join(dir, 'bad.kubeconfig');
    writeFileSync(file, '- just\n- a list\n');
    expect(() => loadKubeConfig(file)).to.throw(`cannot load --kubeconfig ${file}: not a kubeconfig`);
    // proxy-url is refused by name, not ignored (a direct connection the network drops would only ever retry).
    expect(() => kubeConfigFromText(kubeconfig('    token: x', 'server: https://api:6443\n    proxy-url: http://proxy:3128'), dir)).to.throw(
      'cluster "prod" sets proxy-url, which svcbgp does not support',
    );
  });

  it('KUBECONFIG with several files is merged as kubectl does: missing files skipped, the first to name an entry wins, paths relative to their own file', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    writeFileSync(join(a, 'ca.crt'), 'CA OF A');
    writeFileSync(
      join(a, 'config'),
      `apiVersion: v1
kind: Config
current-context: ops
contexts:
- name: ops
  context: {cluster: prod, user: admin}
clusters:
- name: prod
  cluster: {server: 'https://a:6443', certificate-authority: ca.crt}
`,
    );
    writeFileSync(
      join(b, 'config'),
      `apiVersion: v1
kind: Config
current-context: elsewhere
contexts:
- name: ops
  context: {cluster: other, user: nobody}
clusters:
- name: prod
  cluster: {server: 'https://b:6443'}
users:
- name: admin
  user: {tokenFile: token}
`,
    );
    const { target } = kubeConfigFromFiles([join(dir, 'missing'), join(a, 'config'), join(b, 'config')]);
    expect(target.server).to.equal('https://a:6443');
    expect(target.ca?.toString()).to.equal('CA OF A');
    expect(target.tokenFile).to.equal(join(b, 'token'));
    const env = process.env.KUBECONFIG;
    try {
      process.env.KUBECONFIG = `${join(a, 'config')}:${join(b, 'config')}`;
      const loaded = process.env.KUBERNETES_SERVICE_HOST ? undefined : loadKubeConfig(undefined);
      if (loaded) expect(loaded.target.tokenFile).to.equal(join(b, 'token'));
    } finally {
      if (env === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = env;
    }
    expect(() => kubeConfigFromFiles([join(dir, 'missing')])).to.throw('none of');
  });

  it('in-cluster: the service host (IPv6 in brackets) and port, the ServiceAccount CA, the token as a file (re-read: rotated)', () => {
    writeFileSync(join(dir, 'ca.crt'), 'SA CA');
    const env = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    try {
      process.env.KUBERNETES_SERVICE_HOST = 'fd00:49::1';
      process.env.KUBERNETES_SERVICE_PORT = '443';
      const t = inClusterTarget(dir);
      expect(t.server).to.equal('https://[fd00:49::1]:443');
      expect(t.ca?.toString()).to.equal('SA CA');
      expect(t.tokenFile).to.equal(join(dir, 'token'));
    } finally {
      if (env.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      else process.env.KUBERNETES_SERVICE_HOST = env.host;
      if (env.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
      else process.env.KUBERNETES_SERVICE_PORT = env.port;
    }
  });
});
