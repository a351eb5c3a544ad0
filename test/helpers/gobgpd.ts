/**
 * Test helper: a real gobgpd (Debian's 3.10, or the version SVCBGP_GOBGPD names: see gobgpd-version.ts) in its own temp dir, its gRPC API on a free loopback port
 * (or a unix socket), killed and cleaned up by stop() — and, as a safety net, when the test process exits.
 *
 * How gobgpd is started here: with deploy/40-daemonset.yaml's flags (gobgpd-flags.ts), two values replaced:
 *   gobgpd --api-hosts 127.0.0.1:<port> --pprof-disable --metrics-path= --log-level debug [-f config.toml]
 *   --api-hosts      the gRPC API; default ":50051" (all addresses!) so we always pass it. A unix socket
 *                    works too: --api-hosts unix:///tmp/x/gobgp.sock.
 *   --pprof-disable, --metrics-path=
 *                    the DaemonSet's: no HTTP server on localhost:6060 (pprof, and from gobgpd 3.14 on its
 *                    metrics); 3.10 does not know --metrics-path and gets --pprof-disable alone.
 *   --log-level debug  JSON logs with FSM transitions: the log file is printed when a test fails to start it.
 *   no -f            gobgpd starts with BGP *not* running (GetBgp reports AS 0); StartBgp over the API
 *                    (svcbgp's provisioning) starts it. With -f, BGP starts from the file (used for a
 *                    second speaker and for the "conflicting global config" test).
 * The `gobgp` CLI reaches the instance with `gobgp -u 127.0.0.1 -p <port>` or `gobgp --target unix:///...`.
 */
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { gobgpdFlags } from './gobgpd-flags.js';
import { gobgpdVersion, type GobgpdVersion } from './gobgpd-version.js';

const execFileAsync = promisify(execFile);

/** The gobgpd under test (SVCBGP_GOBGPD), its binaries and the wire API it serves. */
export const GOBGPD_VERSION = gobgpdVersion();
export const GOBGPD_BIN = GOBGPD_VERSION.gobgpd;
export const GOBGP_BIN = GOBGPD_VERSION.gobgp;

/** Everything started by this module, so an exiting test process leaves nothing behind. */
const live = new Set<{ child: ChildProcess; dir: string; netns?: string }>();

/** Extra synchronous cleanups run at process exit (e.g. namespaces made by bgp-speaker.ts). */
const exitCleanups: (() => void)[] = [];
export function onExit(fn: () => void): void {
  exitCleanups.push(fn);
  if (hooksInstalled) process.on('exit', fn);
}

export function deleteNetns(name: string): void {
  try {
    execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
}
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const cleanup = () => {
    for (const entry of live) {
      try {
        entry.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
      rmSync(entry.dir, { recursive: true, force: true });
      if (entry.netns) deleteNetns(entry.netns);
    }
    live.clear();
  };
  process.on('exit', cleanup);
  for (const fn of exitCleanups) process.on('exit', fn);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
}

/** A free TCP port on `host` (the kernel picks; we close and hand it out). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface GobgpdOptions {
  /** Serve the API on a unix socket in the temp dir instead of a loopback TCP port. */
  unixSocket?: boolean;
  /**
   * Run gobgpd in a fresh network namespace that has only `lo` (API on a unix socket, which is not
   * namespaced). For peers such as the seed's 192.168.1.1: gobgpd dials them, and in the namespace that
   * fails with "network unreachable" instead of sending packets into a real network. Needs root.
   */
  isolatedNetwork?: boolean;
  /** Run gobgpd in this existing network namespace (the caller owns it); API on a unix socket. */
  netns?: string;
  /** gobgpd TOML config (BGP then starts from it). */
  configToml?: string;
  /** Name used in the temp dir, for reading leftovers in failures. */
  name?: string;
  logLevel?: 'debug' | 'info' | 'warn';
  /** How long to wait for the API to answer (ms, default 15000). */
  startTimeoutMs?: number;
  /** Run this gobgpd version ("3.10", "3.37", "4.8", "4.9") instead of SVCBGP_GOBGPD's. */
  version?: string;
  /** Serve the API on this unix socket (e.g. the socket of a stopped gobgpd, to replace it by another version). */
  socketPath?: string;
  /** Leave these of the DaemonSet's flags out (by name): a control that shows what a flag prevents. */
  withoutFlags?: string[];
}

export class Gobgpd {
  private exited = false;
  readonly exitPromise: Promise<void>;

  constructor(
    readonly child: ChildProcess,
    readonly dir: string,
    /** What connectGobgp() takes: "127.0.0.1:<port>" or "unix:///.../gobgp.sock". */
    readonly apiAddress: string,
    readonly logFile: string,
    private readonly entry: { child: ChildProcess; dir: string; netns?: string },
    /** Which gobgpd this is (binaries and wire API). */
    readonly version: GobgpdVersion = GOBGPD_VERSION,
  ) {
    this.exitPromise = new Promise((resolve) =>
      child.once('exit', () => {
        this.exited = true;
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Arguments that point the `gobgp` CLI at this instance. */
  get cliTarget(): string[] {
    if (this.apiAddress.startsWith('unix://')) return ['--target', this.apiAddress];
    const i = this.apiAddress.lastIndexOf(':');
    return ['-u', this.apiAddress.slice(0, i), '-p', this.apiAddress.slice(i + 1)];
  }

  /** Runs `gobgp <target> ...args`, returns stdout; rejects with stderr on failure. */
  async cli(...args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync(this.version.gobgp, [...this.cliTarget, ...args], { timeout: 30000, maxBuffer: 256 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`gobgp ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).slice(0, 2000)}`);
    }
  }

  /** Runs `gobgp <target> ...args -j` and parses the JSON. */
  async cliJson<T>(...args: string[]): Promise<T> {
    const out = await this.cli(...args, '-j');
    return JSON.parse(out.trim() === '' ? 'null' : out) as T;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  get running(): boolean {
    return !this.exited;
  }

  /** SIGKILL (what a crash looks like) or SIGTERM, then remove the temp dir. Idempotent. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.exited) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await this.exitPromise;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (this.entry.netns) deleteNetns(this.entry.netns);
    live.delete(this.entry);
  }
}

export async function startGobgpd(options: GobgpdOptions = {}): Promise<Gobgpd> {
  installExitHooks();
  const dir = mkdtempSync(path.join(os.tmpdir(), `svcbgp-${options.name ?? 'gobgpd'}-`));
  const logFile = path.join(dir, 'gobgpd.log');
  const ownNetns = options.isolatedNetwork ? `svcbgp-${path.basename(dir).replace(/[^A-Za-z0-9-]/g, '')}` : undefined;
  const netns = ownNetns ?? options.netns;
  if (ownNetns) {
    execFileSync('ip', ['netns', 'add', ownNetns]);
    execFileSync('ip', ['-n', ownNetns, 'link', 'set', 'lo', 'up']);
  }
  const version = options.version ? gobgpdVersion(options.version) : GOBGPD_VERSION;
  if (options.socketPath) rmSync(options.socketPath, { force: true }); // a SIGKILLed gobgpd leaves it behind
  const apiAddress = options.socketPath
    ? `unix://${options.socketPath}`
    : options.unixSocket || netns
      ? `unix://${path.join(dir, 'gobgp.sock')}`
      : `127.0.0.1:${await freePort('127.0.0.1')}`;
  const args = gobgpdFlags(version, { apiHosts: apiAddress, logLevel: options.logLevel ?? 'debug', without: options.withoutFlags ?? [] });
  if (options.configToml !== undefined) {
    const configFile = path.join(dir, 'gobgpd.toml');
    writeFileSync(configFile, options.configToml);
    args.push('-f', configFile, '-t', 'toml');
  }
  const fd = openSync(logFile, 'a');
  // `ip netns exec` execs gobgpd in place, so the child's pid is gobgpd's.
  const child = netns
    ? spawn('ip', ['netns', 'exec', netns, version.gobgpd, ...args], { cwd: dir, stdio: ['ignore', fd, fd] })
    : spawn(version.gobgpd, args, { cwd: dir, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const entry: { child: ChildProcess; dir: string; netns?: string } = { child, dir };
  if (ownNetns) entry.netns = ownNetns;
  live.add(entry);
  const d = new Gobgpd(child, dir, apiAddress, logFile, entry, version);
  child.once('error', () => undefined);

  // Ready = the CLI gets an answer from the API.
  const deadline = Date.now() + (options.startTimeoutMs ?? 15000);
  let lastError = '';
  while (Date.now() < deadline) {
    if (!d.running) break;
    try {
      await d.cli('global');
      return d;
    } catch (err) {
      lastError = (err as Error).message;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const log = d.log();
  await d.stop('SIGKILL');
  throw new Error(`gobgpd (${args.join(' ')}) did not come up: ${lastError}\n--- gobgpd log ---\n${log}`);
}

/** Polls `check` until it returns a value (not undefined) or the timeout passes; then throws with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
