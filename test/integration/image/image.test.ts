/**
 * The OCI image built by scripts/build-image.sh, run from its own file system. `podman run` cannot run here
 * (crun cannot set rlimits in this sandbox), so the image is mounted (`podman image mount`) and its entry
 * points run with chroot as the image's user, each in a private mount namespace where a host directory is
 * bound over the image's /run/gobgp (the DaemonSet's emptyDir) or /tmp (the agent's config and kubeconfig).
 *
 * What is real: the image's node, agent, gobgpd, gobgp CLI and dumb-init; the Kubernetes API server; a second
 * gobgpd as the ToR (graceful-restart helper, the host's binary, its own TOML) in a network namespace joined by
 * a veth pair to the node's namespace, where the image's gobgpd listens on port 179 as uid 65532.
 *
 * Skips (does not fail) when podman is missing, the test is not root, or the image has not been built:
 * build it with `sudo scripts/build-image.sh`. SVCBGP_IMAGE names another image.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLink, ribNextHops, startSpeaker, type Link } from '../../helpers/bgp-speaker.js';
import { freePort, waitFor, type Gobgpd } from '../../helpers/gobgpd.js';
import { repoRoot, useCluster } from '../../helpers/kube/index.js';
import { httpGet, ribViaCli } from '../agent/util.js';
import { agentNodeFlags, daemonSetContainers, nodeScriptIndex } from '../../helpers/agent-node-flags.js';
import { daemonSetGobgpdFlags } from '../../helpers/gobgpd-flags.js';

const VERSION = (JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
const IMAGE = process.env.SVCBGP_IMAGE || `localhost/svcbgp:${VERSION}`;
const UID = 65532;
const NODE_IP = '192.168.1.10';
const TOR_IP = '192.168.1.1';
const NODE = `image-${process.pid}`;
/** The host side of the chroot wrappers; the image's processes get only PATH and HOME (no NODE_EXTRA_CA_CERTS etc.). */
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/home/nonroot' };

const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Why the image cannot be tested here, or undefined when it can. */
function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (podman image mount and chroot need root)';
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed';
  if (spawnSync('podman', ['image', 'exists', IMAGE]).status !== 0) return `image ${IMAGE} has not been built (sudo scripts/build-image.sh)`;
  return undefined;
}

interface InImage {
  /** Run in this network namespace (default: the host's). */
  netns?: string;
  /** [host directory, directory inside the image] bound in the process's own mount namespace. */
  binds?: [string, string][];
  user?: number;
}

/** The argv that runs `cmd` inside the mounted image (chroot execs, so the child's pid is cmd's). */
function inImageArgv(root: string, cmd: string[], o: InImage = {}): string[] {
  const user = o.user ?? UID;
  const mounts = (o.binds ?? []).map(([host, inside]) => `mount --bind ${sh(host)} ${sh(path.join(root, inside))} && `).join('');
  const script = `${mounts}exec chroot --userspec=${user}:${user} ${sh(root)} ${cmd.map(sh).join(' ')}`;
  const inner = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script];
  return o.netns ? ['ip', 'netns', 'exec', o.netns, ...inner] : inner;
}

function runInImage(root: string, cmd: string[], o: InImage = {}): { code: number | null; stdout: string; stderr: string } {
  const [file, ...args] = inImageArgv(root, cmd, o);
  const r = spawnSync(file!, args, { env: ENV, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running process inside the image, its output collected. */
class ImageProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  constructor(root: string, cmd: string[], o: InImage = {}) {
    const [file, ...args] = inImageArgv(root, cmd, o);
    this.child = spawn(file!, args, { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }
  get pid(): number {
    return this.child.pid ?? -1;
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** A process on the host (no chroot), its output collected. */
class HostProcess {
  readonly child: ChildProcess;
  output = '';
  exited = false;
  private readonly done: Promise<void>;
  constructor(argv: string[]) {
    this.child = spawn(argv[0]!, argv.slice(1), { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.done = new Promise((resolve) =>
      this.child.once('close', () => {
        this.exited = true;
        resolve();
      }),
    );
  }
  async stop(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    await this.done;
  }
}

/** Uid and effective capabilities of a process, from /proc. */
function credentials(pid: number): { uid: string; capEff: string; name: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  return { uid: field('Uid'), capEff: field('CapEff'), name: field('Name') };
}

function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
    readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
}

/** CAP_NET_BIND_SERVICE is capability 10. */
const NET_BIND_SERVICE_ONLY = '0000000000000400';
const ESTABLISHED = 6; // gobgp v3 CLI JSON: state.session_state

describe('image: the svcbgp OCI image, run from its own file system', function () {
  this.timeout(120_000);
  let root = '';

  before(function () {
    const why = unavailable();
    if (why) {
      process.stderr.write(`      skipping the image tests: ${why}\n`);
      this.skip();
    }
    const r = spawnSync('podman', ['image', 'mount', IMAGE], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`podman image mount ${IMAGE}: ${r.stderr}`);
    root = r.stdout.trim();
  });

  after(() => {
    if (root) spawnSync('podman', ['image', 'unmount', IMAGE]);
  });

  it('holds node, the agent with production dependencies only, gobgpd, gobgp and dumb-init at the documented paths — and no shell or package manager', () => {
    for (const p of [
      'usr/bin/node',
      'usr/bin/gobgpd',
      'usr/bin/gobgp',
      'usr/bin/dumb-init',
      'usr/bin/env',
      'app/dist/src/cli/main.js',
      'app/package.json',
      'app/protos/gobgp/v3/gobgp.proto',
      'app/node_modules/@grpc/grpc-js/package.json',
      'app/node_modules/@kubernetes/client-node/package.json',
    ]) {
      expect(existsSync(path.join(root, p)), p).to.equal(true);
    }
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).to.contain(`nonroot:x:${UID}:${UID}:`);
    for (const p of [
      'bin/sh',
      'usr/bin/sh',
      'bin/bash',
      'usr/bin/bash',
      'bin/dash',
      'usr/bin/dash',
      'usr/bin/busybox',
      'usr/bin/apt',
      'usr/bin/dpkg',
      'usr/bin/npm',
      'usr/bin/ls',
      'app/dist/test',
      'app/src',
    ]) {
      expect(existsSync(path.join(root, p)), `${p} must not be in the image`).to.equal(false);
    }
    // every package the lock file marks dev-only (mocha, typescript, chai, ... and their dependencies) is absent
    const lock = JSON.parse(readFileSync(path.join(repoRoot(), 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages)
      .filter(([p, e]) => p.startsWith('node_modules/') && e.dev === true)
      .map(([p]) => p);
    expect(devOnly).to.include.members(['node_modules/mocha', 'node_modules/typescript', 'node_modules/chai']);
    for (const p of devOnly) expect(existsSync(path.join(root, 'app', p)), `dev-only ${p}`).to.equal(false);
    const prod = Object.entries(lock.packages)
      .filter(([p, e]) => p.startsWith('node_modules/') && e.dev !== true)
      .map(([p]) => p);
    for (const p of prod) expect(existsSync(path.join(root, 'app', p, 'package.json')), `production ${p}`).to.equal(true);
    // the one file capability in the image: gobgpd may bind port 179 as a non-root user
    const caps = spawnSync('getcap', ['-r', root], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    expect(caps.map((l) => l.replace(root, ''))).to.deep.equal(['/usr/bin/gobgpd cap_net_bind_service=ep']);
  });

  it('runs as uid 65532 by default, with node on the agent as its entry point', () => {
    const [config] = JSON.parse(spawnSync('podman', ['image', 'inspect', IMAGE], { encoding: 'utf8' }).stdout) as {
      Config: { User: string; Entrypoint: string[]; Labels: Record<string, string> };
    }[];
    expect(config!.Config.User).to.equal(`${UID}:${UID}`);
    // node with the DaemonSet's Node.js flags (deploy/40-daemonset.yaml: why), so an install from the image alone runs the same process
    expect(config!.Config.Entrypoint).to.deep.equal(['/usr/bin/node', ...agentNodeFlags(), '/app/dist/src/cli/main.js']);
    expect(agentNodeFlags()).to.include('--max-semi-space-size=4');
    expect(config!.Config.Labels['io.svcbgp.gobgpd.version']).to.match(/^\d+\.\d+\.\d+$/);
  });

  it("starts every entry point from the image's own file system as uid 65532: node, svcbgp --help, gobgpd --version, gobgp --version, dumb-init --version", () => {
    const node = runInImage(root, ['/usr/bin/node', '--version']);
    expect(node.code, node.stderr).to.equal(0);
    const [major, minor] = node.stdout.trim().replace(/^v/, '').split('.').map(Number);
    expect(major! > 20 || (major === 20 && minor! >= 19), `node ${node.stdout.trim()} >= 20.19`).to.equal(true);

    const help = runInImage(root, ['/usr/bin/svcbgp', '--help']);
    expect(help.stderr).to.equal('');
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/^Usage: svcbgp /);
    expect(help.stdout).to.match(/^\s+run \[options\]/m);

    const labels = (
      JSON.parse(spawnSync('podman', ['image', 'inspect', IMAGE], { encoding: 'utf8' }).stdout) as { Config: { Labels: Record<string, string> } }[]
    )[0]!.Config.Labels;
    const gobgpd = runInImage(root, ['/usr/bin/gobgpd', '--version']);
    expect(gobgpd.code, gobgpd.stderr).to.equal(0);
    expect(gobgpd.stdout.trim()).to.equal(`gobgpd version ${labels['io.svcbgp.gobgpd.version']}`);
    const gobgp = runInImage(root, ['/usr/bin/gobgp', '--version']);
    expect(gobgp.code, gobgp.stderr).to.equal(0);
    expect(gobgp.stdout.trim()).to.equal(`gobgp version ${labels['io.svcbgp.gobgpd.version']}`);
    const init = runInImage(root, ['/usr/bin/dumb-init', '--version']);
    expect(`${init.stdout}${init.stderr}`).to.match(/^dumb-init v1\.2\.\d/);

    // and there is no shell to fall back on
    const shell = runInImage(root, ['/bin/sh', '-c', 'true']);
    expect(shell.code).to.not.equal(0);
    expect(shell.stderr).to.contain('No such file or directory');
  });

  it("has every program deploy/40-daemonset.yaml starts, found on the image's PATH as the container runtime looks it up", () => {
    const [config] = JSON.parse(spawnSync('podman', ['image', 'inspect', IMAGE], { encoding: 'utf8' }).stdout) as { Config: { Env: string[] } }[];
    const imagePath = config!.Config.Env.find((e) => e.startsWith('PATH='))!
      .slice('PATH='.length)
      .split(':');
    const resolveInImage = (program: string): string | undefined =>
      program.startsWith('/')
        ? existsSync(path.join(root, program))
          ? program
          : undefined
        : imagePath.map((d) => path.posix.join(d, program)).find((p) => existsSync(path.join(root, p)));
    const programs: string[] = [];
    for (const c of daemonSetContainers()) {
      programs.push(c.command[0]!);
      // an init such as dumb-init runs the program after "--"
      if (c.command.includes('--')) programs.push(c.command[c.command.indexOf('--') + 1]!);
      // node runs a script (after its own flags)
      if (path.basename(c.command[0]!) === 'node') programs.push(c.command[nodeScriptIndex(c.command)]!);
    }
    expect(programs).to.include.members(['node', '/app/dist/src/cli/main.js']);
    for (const p of programs) expect(resolveInImage(p), `${p} in the image (PATH ${imagePath.join(':')})`).to.be.a('string');
  });

  it('gobgpd gets port 179 as uid 65532 when the container keeps NET_BIND_SERVICE (drop ALL, add NET_BIND_SERVICE); with drop ALL alone the kernel refuses to start it', async () => {
    // The image's gobgpd file (with its capability) run under the restrictions a container securityContext sets,
    // by setpriv on the host (gobgpd needs only libc); each in a network namespace of its own, listening on 179.
    const gobgpdFile = path.join(root, 'usr/bin/gobgpd');
    const listenOn179 = async (restrictions: string[]): Promise<string> => {
      const ns = `svcbgp-imgcap-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
      const dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-imgcap-'));
      chownSync(dir, UID, UID);
      const toml = path.join(dir, 'gobgpd.toml');
      writeFileSync(toml, '[global.config]\n  as = 64512\n  router-id = "192.0.2.1"\n  port = 179\n');
      spawnSync('ip', ['netns', 'add', ns]);
      try {
        const p = new HostProcess([
          'ip',
          'netns',
          'exec',
          ns,
          'setpriv',
          `--reuid=${UID}`,
          `--regid=${UID}`,
          '--clear-groups',
          ...restrictions,
          gobgpdFile,
          '--api-hosts',
          `unix://${dir}/gobgp.sock`,
          '--pprof-disable',
          '-f',
          toml,
          '-t',
          'toml',
        ]);
        await waitFor(
          'gobgpd to start listening or fail',
          async () => {
            const ss = spawnSync('ip', ['netns', 'exec', ns, 'ss', '-Hltn', 'sport = :179'], { encoding: 'utf8' }).stdout;
            if (ss.includes(':179')) return 'listening';
            return p.exited ? 'exited' : undefined;
          },
          10_000,
          100,
        ).catch(() => 'neither');
        const ss = spawnSync('ip', ['netns', 'exec', ns, 'ss', '-Hltn', 'sport = :179'], { encoding: 'utf8' }).stdout;
        await p.stop();
        return ss.includes(':179') ? 'listening on 179' : p.output;
      } finally {
        spawnSync('ip', ['netns', 'delete', ns]);
        rmSync(dir, { recursive: true, force: true });
      }
    };
    // drop: [ALL] + add: [NET_BIND_SERVICE], allowPrivilegeEscalation: true
    expect(await listenOn179(['--bounding-set=-all,+net_bind_service'])).to.equal('listening on 179');
    // Not asserted: allowPrivilegeEscalation: false (no_new_privs) should make the kernel ignore the file capability
    // (prctl(2): "file capabilities non-functional"), but this machine's kernel (6.18) still grants it.
    // drop: [ALL] alone: the kernel refuses to run a binary whose file capability it cannot grant
    expect(await listenOn179(['--bounding-set=-all'])).to.contain('Operation not permitted');
  });

  describe("the agent in the image drives the image's gobgpd, and a ToR receives the routes", function () {
    const cluster = useCluster({ nodes: [{ name: NODE, internalIP: NODE_IP }], namespacePrefix: 'svcbgp-image' });
    let link: Link | undefined;
    let tor: Gobgpd | undefined;
    let gobgpd: ImageProcess | undefined;
    let agent: ImageProcess | undefined;
    let socketDir = '';
    let configDir = '';
    let httpAddress = '';

    // deploy/40-daemonset.yaml's gobgpd flags, as they are: the image's gobgpd must accept every one of them
    const gobgpdArgs = ['/usr/bin/gobgpd', ...daemonSetGobgpdFlags()];
    const startGobgpd = (withInit: boolean): ImageProcess =>
      new ImageProcess(root, withInit ? ['/usr/bin/dumb-init', '--rewrite', '15:9', '--', ...gobgpdArgs] : gobgpdArgs, {
        netns: link!.nodeNs,
        binds: [[socketDir, '/run/gobgp']],
      });
    /** The image's gobgp CLI, as an operator runs it in the Pod (`kubectl exec ... -c gobgpd -- gobgp ...`). */
    const imageCli = async (...args: string[]): Promise<string> => {
      const r = runInImage(root, ['/usr/bin/gobgp', '--target', 'unix:///run/gobgp/gobgp.sock', ...args], { binds: [[socketDir, '/run/gobgp']] });
      if (r.code !== 0) throw new Error(`gobgp ${args.join(' ')} (in the image): ${r.stderr}`);
      return r.stdout;
    };
    const torSession = async (): Promise<number | undefined> =>
      (await tor!.cliJson<{ state: { session_state?: number } }[] | null>('neighbor'))?.[0]?.state.session_state;

    before(async function () {
      socketDir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-image-sock-'));
      configDir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-image-cfg-'));
      for (const d of [socketDir, configDir]) {
        chownSync(d, UID, UID);
        chmodSync(d, 0o700);
      }
      // the agent reads these as uid 65532
      writeFileSync(path.join(configDir, 'kubeconfig'), readFileSync(cluster.cp.kubeconfig), { mode: 0o600 });
      writeFileSync(
        path.join(configDir, 'bgp.yaml'),
        [
          'apiVersion: projectcalico.org/v3',
          'kind: BGPPeer',
          'metadata: {name: tor}',
          `spec: {peerIP: ${TOR_IP}, asNumber: 64512}`,
          '---',
          'apiVersion: projectcalico.org/v3',
          'kind: BGPConfiguration',
          'metadata: {name: default}',
          'spec:',
          '  serviceClusterIPs:',
          '  - cidr: 10.49.0.0/16',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      for (const f of ['kubeconfig', 'bgp.yaml']) chownSync(path.join(configDir, f), UID, UID);

      link = createLink({ node: { v4: NODE_IP, v6: 'fd00:1::10' }, tor: { v4: TOR_IP, v6: 'fd00:1::1' }, v4Len: 24, v6Len: 64 });
      tor = await startSpeaker({
        asn: 64512,
        routerId: TOR_IP,
        address: TOR_IP,
        port: 179,
        netns: link.torNs,
        neighbor: { address: NODE_IP, asn: 64512, port: 179 },
      });
      gobgpd = startGobgpd(true);
      await waitFor("the image's gobgpd API on its socket", async () => ((await imageCli('global')) !== '' ? true : undefined), 15_000, 200);

      httpAddress = `127.0.0.1:${await freePort()}`;
      // the agent in the host's network namespace (it reaches the API server on loopback); gobgpd through the socket
      agent = new ImageProcess(
        root,
        [
          '/usr/bin/node',
          ...agentNodeFlags(),
          '/app/dist/src/cli/main.js',
          'run',
          `--node-name=${NODE}`,
          '--gobgp-address=unix:///run/gobgp/gobgp.sock',
          '--config=/tmp/bgp.yaml',
          '--kubeconfig=/tmp/kubeconfig',
          `--http-address=${httpAddress}`,
          '--no-custom-resources',
          '--no-events',
          '--gobgp-probe-interval=500ms',
        ],
        {
          binds: [
            [socketDir, '/run/gobgp'],
            [configDir, '/tmp'],
          ],
        },
      );
    });

    after(async function () {
      if (this.currentTest?.state === 'failed') {
        process.stderr.write(
          `--- agent (image) ---\n${agent?.output.slice(-4000)}\n--- gobgpd (image) ---\n${gobgpd?.output.slice(-3000)}\n--- tor ---\n${tor?.log().slice(-3000)}\n`,
        );
      }
      await agent?.stop();
      await gobgpd?.stop();
      await tor?.stop();
      link?.destroy();
      for (const d of [socketDir, configDir]) if (d) rmSync(d, { recursive: true, force: true });
    });

    it("advertises the seed's 10.49.0.0/16 to the ToR; gobgpd runs as uid 65532 with CAP_NET_BIND_SERVICE only, listening on port 179; the agent as uid 65532 with no capability", async () => {
      const rib = await waitFor(
        '10.49.0.0/16 at the ToR',
        async () => {
          const r = await ribNextHops(tor!, 'ipv4');
          return r.has('10.49.0.0/16') ? r : undefined;
        },
        60_000,
        250,
      );
      expect([...rib]).to.deep.equal([['10.49.0.0/16', [NODE_IP]]]);

      // what an operator sees with the image's CLI: svcbgp's path with its marker community
      const ours = await ribViaCli(imageCli);
      expect(ours.get('10.49.0.0/16')).to.deep.include({ nextHop: '0.0.0.0', largeCommunities: ['64512:7376:1'] });
      expect(await imageCli('neighbor')).to.match(new RegExp(`^${TOR_IP.replace(/\./g, '\\.')}\\s+64512\\s+\\S+\\s+Establ`, 'm'));
      const ready = await waitFor(
        'the agent ready',
        async () => {
          const r = await httpGet(httpAddress, '/readyz');
          return r.status === 200 ? r : undefined;
        },
        30_000,
        250,
      );
      expect(ready.status).to.equal(200);

      // dumb-init is the Pod's PID 1 stand-in; gobgpd is its child
      const init = credentials(gobgpd!.pid);
      expect(init.name).to.equal('dumb-init');
      const [gobgpdPid] = childrenOf(gobgpd!.pid);
      const g = credentials(gobgpdPid!);
      expect(g).to.deep.equal({ name: 'gobgpd', uid: `${UID}\t${UID}\t${UID}\t${UID}`, capEff: NET_BIND_SERVICE_ONLY });
      const listening = spawnSync('ip', ['netns', 'exec', link!.nodeNs, 'ss', '-Hltnp', 'sport = :179'], { encoding: 'utf8' }).stdout;
      expect(listening).to.contain(`pid=${gobgpdPid}`);
      const a = credentials(agent!.pid);
      expect(a).to.deep.equal({ name: 'node', uid: `${UID}\t${UID}\t${UID}\t${UID}`, capEff: '0000000000000000' });
    });

    it('SIGTERM to dumb-init (the kubelet deleting the Pod) kills gobgpd with SIGKILL: no Cease, the ToR keeps the routes as stale', async () => {
      const [gobgpdPid] = childrenOf(gobgpd!.pid);
      gobgpd!.child.kill('SIGTERM');
      const exit = await gobgpd!.exited;
      // dumb-init exits with 128 + the signal that ended its child
      expect(exit.code).to.equal(128 + 9);
      expect(existsSync(`/proc/${gobgpdPid}`)).to.equal(false);
      await waitFor('the ToR to see the session end', async () => ((await torSession()) !== ESTABLISHED ? true : undefined), 30_000, 100);
      await new Promise((r) => setTimeout(r, 2000));
      expect([...(await ribNextHops(tor!, 'ipv4'))]).to.deep.equal([['10.49.0.0/16', [NODE_IP]]]);
    });

    it('control: the same gobgpd WITHOUT dumb-init answers SIGTERM with a Cease, and the ToR drops the routes at once', async () => {
      // A SIGKILLed gobgpd leaves its socket behind, and no gobgpd (3.10, 3.37, 4.8) removes a stale one: a gobgpd
      // container restarted in the same Pod (same emptyDir) would exit at once ("bind: address already in use"). The
      // image's agent removes a socket that refuses connections (src/agent/stale-socket.ts), so it comes back.
      await waitFor('the agent removed the stale socket', async () => (existsSync(path.join(socketDir, 'gobgp.sock')) ? undefined : true), 30_000, 100);
      gobgpd = startGobgpd(false);
      // the agent notices the empty gobgpd and restores it (global, paths, peer): the routes are back
      await waitFor(
        'the session re-established and the routes refreshed',
        async () => ((await torSession()) === ESTABLISHED && (await ribViaCli(imageCli)).has('10.49.0.0/16') ? true : undefined),
        90_000,
        250,
      );
      await waitFor(
        'the ToR holding the route from the new session',
        async () => ((await ribNextHops(tor!, 'ipv4')).has('10.49.0.0/16') ? true : undefined),
        30_000,
        250,
      );
      expect(credentials(gobgpd.pid).name).to.equal('gobgpd');
      gobgpd.child.kill('SIGTERM');
      await gobgpd.exited;
      const gone = await waitFor('the ToR to drop the routes', async () => ((await ribNextHops(tor!, 'ipv4')).size === 0 ? true : undefined), 5_000, 100);
      expect(gone).to.equal(true);
    });
  });
});
