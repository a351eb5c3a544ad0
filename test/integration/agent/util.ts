/**
 * Helpers for the agent's integration tests: a logger that keeps entries (to assert on reasons), a gobgpd
 * that can be SIGKILLed and started again on the SAME unix socket (what a container restart looks like to
 * the agent), and readers for `gobgp global rib -j`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { Writable } from 'node:stream';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GOBGPD_BIN, GOBGPD_VERSION, GOBGP_BIN, waitFor } from '../../helpers/gobgpd.js';
import { agentNodeFlags } from '../../helpers/agent-node-flags.js';
import { gobgpdFlags } from '../../helpers/gobgpd-flags.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface LogEntry {
  level: string;
  message: string;
  [k: string]: unknown;
}

/** A winston logger whose entries stay in memory (SVCBGP_TEST_LOG=1 also prints them). */
export function memoryLogger(): { log: winston.Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: LogEntry, _enc, cb) {
      entries.push(info);
      if (process.env.SVCBGP_TEST_LOG) process.stderr.write(`${JSON.stringify(info)}\n`);
      cb();
    },
  });
  const log = winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] });
  return { log, entries };
}

/** gobgpd on a unix socket in a temp dir that survives kill/start cycles. */
export class RestartableGobgpd {
  readonly dir: string;
  readonly socket: string;
  private child: ChildProcess | undefined;
  private static live = new Set<RestartableGobgpd>();
  private static hooked = false;

  /** `netns`: run gobgpd inside this network namespace (its API socket stays reachable: unix sockets are not namespaced). */
  constructor(
    name = 'agent-gobgpd',
    private readonly netns?: string,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), `svcbgp-${name}-`));
    this.socket = path.join(this.dir, 'gobgp.sock');
    RestartableGobgpd.live.add(this);
    if (!RestartableGobgpd.hooked) {
      RestartableGobgpd.hooked = true;
      process.once('exit', () => RestartableGobgpd.killAll());
    }
  }

  static killAll(): void {
    for (const g of RestartableGobgpd.live) {
      g.child?.kill('SIGKILL');
      rmSync(g.dir, { recursive: true, force: true });
    }
    RestartableGobgpd.live.clear();
  }

  get address(): string {
    return `unix://${this.socket}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    rmSync(this.socket, { force: true });
    const fd = openSync(path.join(this.dir, 'gobgpd.log'), 'a');
    const args = gobgpdFlags(GOBGPD_VERSION, { apiHosts: this.address, logLevel: process.env.SVCBGP_TEST_GOBGPD_LOG ?? 'info' });
    // `ip netns exec` execs gobgpd in place, so the child's pid is gobgpd's (SIGKILL reaches it).
    this.child = this.netns
      ? spawn('ip', ['netns', 'exec', this.netns, GOBGPD_BIN, ...args], { cwd: this.dir, stdio: ['ignore', fd, fd] })
      : spawn(GOBGPD_BIN, args, { cwd: this.dir, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child.once('error', () => undefined);
    await waitFor('gobgpd API', async () => ((await this.cli('global').catch(() => undefined)) !== undefined ? true : undefined), 15000, 100);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
    RestartableGobgpd.live.delete(this);
  }

  log(): string {
    try {
      return readFileSync(path.join(this.dir, 'gobgpd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async cli(...args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync(GOBGP_BIN, ['--target', this.address, ...args], { timeout: 15000 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`gobgp ${args.join(' ')}: ${e.stderr || e.message}`);
    }
  }
}

export interface CliPath {
  prefix: string;
  nextHop: string;
  largeCommunities: string[];
  communities: string[];
  localPref?: number;
  age: number;
}

/** `gobgp global rib [-a ipv6] -j` → one entry per prefix (the best path), as an operator reads it. */
export async function ribViaCli(cli: (...a: string[]) => Promise<string>, family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<Map<string, CliPath>> {
  const out = await cli('global', 'rib', ...(family === 'ipv6' ? ['-a', 'ipv6'] : []), '-j');
  const text = out.trim();
  const json = (text === '' || text === 'null' ? {} : JSON.parse(text)) as Record<string, { age: number; best: boolean; attrs: Record<string, unknown>[] }[]>;
  const res = new Map<string, CliPath>();
  for (const [prefix, paths] of Object.entries(json)) {
    const p = paths.find((x) => x.best) ?? paths[0];
    if (!p) continue;
    let nextHop = '';
    const large: string[] = [];
    const comms: string[] = [];
    let localPref: number | undefined;
    for (const a of p.attrs) {
      if (a.type === 5) localPref = Number(a.value);
      if (a.type === 3 || a.type === 14) nextHop = String(a.nexthop);
      if (a.type === 32)
        for (const c of a.value as { ASN: number; LocalData1: number; LocalData2: number }[]) large.push(`${c.ASN}:${c.LocalData1}:${c.LocalData2}`);
      if (a.type === 8) for (const c of a.communities as number[]) comms.push(`${c >>> 16}:${c & 0xffff}`);
    }
    res.set(prefix, { prefix, nextHop, largeCommunities: large, communities: comms, ...(localPref !== undefined ? { localPref } : {}), age: p.age });
  }
  return res;
}

// ---------------------------------------------------------------------------------------------------------
// The agent as a separate process (`node dist/src/cli/main.js run ...`), the way the DaemonSet runs it.

import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** dist/src/cli/main.js, found from this compiled file (dist/test/integration/agent/util.js). */
export function agentEntry(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/cli/main.js');
}

export class AgentProcess {
  private child: ChildProcess | undefined;
  private out = '';
  private static live = new Set<AgentProcess>();
  private static hooked = false;
  exitCode: number | null = null;

  /**
   * `nodeFlags`: the Node.js flags before the script; default the DaemonSet's (deploy/40-daemonset.yaml), as
   * production runs the agent. (A flag given here wins over the same flag in NODE_OPTIONS.)
   */
  constructor(
    readonly args: string[],
    readonly env: NodeJS.ProcessEnv = {},
    readonly nodeFlags: string[] = agentNodeFlags(),
  ) {
    AgentProcess.live.add(this);
    if (!AgentProcess.hooked) {
      AgentProcess.hooked = true;
      process.once('exit', () => {
        for (const a of AgentProcess.live) a.child?.kill('SIGKILL');
      });
    }
  }

  start(): void {
    this.exitCode = null;
    const child = spawn(process.execPath, [...this.nodeFlags, agentEntry(), 'run', ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // The integration agents peer with 127.0.0.2 (see loopbackAgentConfig): loopback peers need the lab opt-in.
      env: { SVCBGP_ALLOW_LOOPBACK_PEERS: '1', ...process.env, ...this.env },
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      if (process.env.SVCBGP_TEST_LOG) process.stderr.write(d);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      if (process.env.SVCBGP_TEST_LOG) process.stderr.write(d);
    });
    child.once('exit', (code) => (this.exitCode = code ?? -1));
    this.child = child;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Every JSON log line so far. */
  logs(): LogEntry[] {
    return this.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as LogEntry;
        } catch {
          return { level: 'raw', message: l };
        }
      });
  }

  rawOutput(): string {
    return this.out;
  }

  /** Send a signal and wait for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10000): Promise<number | null> {
    const c = this.child;
    if (!c || this.exitCode !== null) return this.exitCode;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(t);
    return this.exitCode;
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    AgentProcess.live.delete(this);
  }
}

/** GET http://<address><path> → status and body. */
export async function httpGet(address: string, p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${address}${p}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

/** Value of one sample of a Prometheus text exposition (labels given as a subset). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => ls[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/**
 * A TCP proxy on loopback in front of the API server, so a test can cut the agent's connection (an API-server
 * outage as the agent sees it) without stopping the shared control plane.
 */
export class CuttableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async listen(port = 0): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Refuse new connections and reset every open one. */
  async cut(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  async restore(): Promise<void> {
    await this.listen(this.port);
  }
}

/** A copy of a kubeconfig whose server URL points at another port on 127.0.0.1. */
export function kubeconfigVia(original: string, port: number, dir: string): string {
  const text = readFileSync(original, 'utf8').replace(/server:\s*https:\/\/127\.0\.0\.1:\d+/g, `server: https://127.0.0.1:${port}`);
  const file = path.join(dir, 'kubeconfig-via-proxy');
  writeFileSync(file, text);
  return file;
}

/**
 * The agent configuration the integration tests and the 10k benchmark use: loopback only — the peer is
 * 127.0.0.2 on a port nobody listens on (gobgpd dials it, no packet leaves the machine) and gobgpd listens on
 * a free port, so no test ever peers with the seed's real 192.168.1.1.
 */
export function loopbackAgentConfig(opts: { peerPort: number; listenPort?: number; serviceClusterIPs?: string[]; serviceExternalIPs?: string[] }): string {
  const cidrs = (key: string, list: string[] | undefined): string =>
    list && list.length > 0 ? `  ${key}: [${list.map((c) => `{cidr: ${c}}`).join(', ')}]\n` : '';
  return `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor}
spec: {peerIP: "127.0.0.2:${opts.peerPort}", asNumber: 64512}
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
${opts.listenPort === undefined ? '' : `  listenPort: ${opts.listenPort}\n`}${cidrs('serviceClusterIPs', opts.serviceClusterIPs ?? ['10.49.0.0/16'])}${cidrs('serviceExternalIPs', opts.serviceExternalIPs)}`;
}

/**
 * Safety for suites whose agent obeys cluster-wide svcbgp.io resources: if another suite left any BGPPeer or
 * BGPConfiguration in the shared cluster, skip rather than let gobgpd dial an address outside loopback.
 * Right after a CRD is established the API server may answer 404 or 429 for a moment, so the list is retried.
 */
export async function skipIfSvcbgpResourcesExist(ctx: Mocha.Context, kc: KubeConfig): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const plural of ['bgppeers', 'bgpconfigurations']) {
    const list = await waitFor(
      `list ${plural}`,
      async () => (await custom.listClusterCustomObject({ group: 'svcbgp.io', version: 'v1alpha1', plural })) as { items: unknown[] },
      30_000,
    );
    if (list.items.length > 0) {
      process.stderr.write(`      skipping: ${list.items.length} svcbgp.io ${plural} already exist in the shared cluster\n`);
      ctx.skip();
    }
  }
}
