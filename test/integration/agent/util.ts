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
import { GOBGPD_BIN, GOBGP_BIN, waitFor } from '../../helpers/gobgpd.js';
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

  constructor(name = 'agent-gobgpd') {
    this.dir = mkdtempSync(path.join(os.tmpdir(), `svcbgp-${name}-`));
    this.socket = path.join(this.dir, 'gobgp.sock');
    RestartableGobgpd.live.add(this);
    if (RestartableGobgpd.live.size === 1) process.once('exit', () => RestartableGobgpd.killAll());
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
    this.child = spawn(GOBGPD_BIN, ['--api-hosts', this.address, '--pprof-disable', '-l', 'info'], { cwd: this.dir, stdio: ['ignore', fd, fd] });
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
    for (const a of p.attrs) {
      if (a.type === 3 || a.type === 14) nextHop = String(a.nexthop);
      if (a.type === 32) for (const c of a.value as { ASN: number; LocalData1: number; LocalData2: number }[]) large.push(`${c.ASN}:${c.LocalData1}:${c.LocalData2}`);
      if (a.type === 8) for (const c of a.communities as number[]) comms.push(`${c >>> 16}:${c & 0xffff}`);
    }
    res.set(prefix, { prefix, nextHop, largeCommunities: large, communities: comms, age: p.age });
  }
  return res;
}
