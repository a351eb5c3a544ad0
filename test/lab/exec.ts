import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

/** Result of a finished command. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Kill the command after this many ms (default 30 s). */
  timeoutMs?: number;
  /** Do not throw on a non-zero exit code. */
  allowFail?: boolean;
  /** Text written to the command's stdin. */
  input?: string;
}

/** Thrown by run() when a command exits non-zero; the message carries the command line and its stderr. */
export class ExecError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: ExecResult,
  ) {
    super(`command failed (exit ${result.code}): ${argv.join(' ')}\n${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'ExecError';
  }
}

/** Run a command (no shell) and collect its output. */
export function run(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const argv = [cmd, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: ExecResult = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.code !== 0 && !opts.allowFail) reject(new ExecError(argv, result));
      else resolve(result);
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE when the command exits without reading: its exit code tells
      child.stdin.end(opts.input);
    }
  });
}

/** Run a command inside a network namespace (`ip netns exec <ns> cmd ...`). */
export function nsRun(ns: string, cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** Synchronous variant for exit handlers, where no event loop turn is left. Never throws. */
export function runSyncQuiet(cmd: string, args: string[]): ExecResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Start a long-running daemon, detached from our process group (so Ctrl-C on a kept lab's terminal does not
 * kill it and `--keep` works), its stdout/stderr appended to logFile. Returns the pid. With `ip netns exec`
 * the pid is the daemon's own: `ip netns exec` execs the command after entering the namespace.
 */
export function spawnDaemon(argv: string[], logFile: string, extra: SpawnOptions = {}): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], ...extra });
    child.on('error', () => undefined); // reported through the readiness wait
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${argv.join(' ')}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Is a process alive (and not a zombie)? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const r = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  return !(r.stdout ?? '').trim().startsWith('Z');
}

/** Send a signal, ignoring "no such process". */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `probe` until it returns a value that is not undefined, or throw after timeoutMs with the last
 * observation in the message (so a failed wait says what was seen, not just "timeout").
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
  describeLast?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      const last = describeLast ? describeLast() : lastErr instanceof Error ? lastErr.message : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `; last seen: ${last}` : ''}`);
    }
    await sleep(intervalMs);
  }
}
