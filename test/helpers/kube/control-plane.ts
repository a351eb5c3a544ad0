/**
 * A REAL Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler on loopback, started by test/k8s/control-plane.sh (which builds the pinned binaries
 * once, see test/k8s/build.sh). This module only drives that script, so the shell (lab, demo) and
 * mocha use one implementation.
 *
 *   const cp = await startControlPlane();
 *   await cp.kubectl(['apply', '-f', '-'], yaml);
 *   ...
 *   await cp.stop();
 *
 * Clean-up: stop() ends it and removes its run dir; if the test process exits without calling stop()
 * an 'exit' handler signals the script, and the script also watches our pid (--parent-pid) so even a
 * SIGKILLed test run leaves no process or directory behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';

/** The repository root, found from this file both as .ts (test/helpers/kube) and as compiled .js (dist/test/helpers/kube). */
export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = resolve(here, '../../..');
  return up.endsWith('/dist') ? dirname(up) : up;
}

export const CONTROL_PLANE_SCRIPT = (): string => resolve(repoRoot(), 'test/k8s/control-plane.sh');

export interface ControlPlaneInfo {
  kubeconfig: string;
  server: string;
  runDir: string;
  binDir: string;
  /** The kubectl built with the control plane (same release). */
  kubectlPath: string;
  ports: { etcd: number; etcdPeer: number; apiserver: number; controllerManager: number; scheduler: number };
  pids: Record<string, number>;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ControlPlane extends ControlPlaneInfo {
  /** A fresh client configuration for the admin user (system:masters). */
  kubeConfig(): KubeConfig;
  /** Run the matching kubectl with the admin kubeconfig; resolves with the result, never rejects on a non-zero exit. */
  kubectl(args: string[], stdin?: string, opts?: { kubeconfig?: string }): Promise<CommandResult>;
  /** Like kubectl() but rejects (with stderr in the message) unless the exit code is 0; resolves with stdout. */
  kubectlOk(args: string[], stdin?: string, opts?: { kubeconfig?: string }): Promise<string>;
  /** A client configuration that authenticates with a bearer token (e.g. from `kubectl create token`), not as admin. */
  kubeConfigForToken(token: string, user?: string): KubeConfig;
  /** The same as a kubeconfig file in the run dir, for kubectl --kubeconfig. Returns its path. */
  writeKubeconfigForToken(token: string, user: string): string;
  /** Resident memory of each component in MiB, read from /proc. */
  memoryMiB(): Record<string, number>;
  /** Milliseconds from spawn to "ready" (API server /readyz, controllers healthy, default ServiceAccount). */
  readonly startMs: number;
  /** Stop every component and remove the run dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * An API-server outage: kube-apiserver stopped as a service manager stops it (SIGTERM; etcd, the controllers and
   * every client stay), resolved once it is gone. startApiServer() starts it again with the same flags and resolves
   * once /readyz answers. apiServerPid(): the running one's pid (for SIGSTOP/SIGCONT: an API server that hangs).
   */
  stopApiServer(): Promise<void>;
  startApiServer(timeoutMs?: number): Promise<void>;
  apiServerPid(): number;
}

export interface StartOptions {
  /** Give up waiting after this long (a cold build is included in the wait: it takes minutes). Default 30 min. */
  timeoutMs?: number;
  /** Progress lines (the script's stderr). Default: only printed on failure. */
  onLog?: (line: string) => void;
  /** Keep the run dir after stop (debugging). */
  keepRunDir?: boolean;
}

export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const child = spawn(CONTROL_PLANE_SCRIPT(), ['--parent-pid', String(process.pid)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.keepRunDir ? { SVCBGP_KEEP_RUNDIR: '1' } : {}) },
    detached: false,
  });
  const onExit = (): void => {
    // Synchronous last resort: the script's own trap stops the components and removes the dir.
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.on('exit', onExit);

  const logLines: string[] = [];
  const info = await new Promise<ControlPlaneInfo>((resolvePromise, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`control plane not ready after ${opts.timeoutMs ?? 1_800_000} ms:\n${logLines.slice(-40).join('\n')}`));
    }, opts.timeoutMs ?? 1_800_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      let i: number;
      while ((i = err.indexOf('\n')) >= 0) {
        const line = err.slice(0, i);
        err = err.slice(i + 1);
        logLines.push(line);
        opts.onLog?.(line);
      }
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^SVCBGP_K8S_READY (.*)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise(JSON.parse(m[1]!) as ControlPlaneInfo);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`control-plane.sh exited (code ${code}, signal ${signal}) before ready:\n${logLines.slice(-40).join('\n')}`));
    });
  }).catch((e: unknown) => {
    process.off('exit', onExit);
    throw e;
  });
  const startMs = Date.now() - t0;

  let stopped: Promise<void> | undefined;
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null) r();
    else child.once('exit', () => r());
  });
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(kill);
      process.off('exit', onExit);
    })();
    return stopped;
  };

  const kubectl = (args: string[], stdin?: string, o: { kubeconfig?: string } = {}): Promise<CommandResult> =>
    runCommand(info.kubectlPath, ['--kubeconfig', o.kubeconfig ?? info.kubeconfig, ...args], stdin);

  const apiServerPid = (): number => Number(readFileSync(join(info.runDir, 'kube-apiserver.pid'), 'utf8').trim());
  const apiServerState = (): string => {
    try {
      return readFileSync(join(info.runDir, 'kube-apiserver.state'), 'utf8').trim();
    } catch {
      return 'started';
    }
  };
  const until = async (what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
    for (const t0 = Date.now(); !(await probe()); ) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`control plane: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  return {
    ...info,
    startMs,
    kubeConfig(): KubeConfig {
      const kc = new KubeConfig();
      kc.loadFromString(readFileSync(info.kubeconfig, 'utf8'));
      return kc;
    },
    kubeConfigForToken: (token: string, user?: string): KubeConfig => tokenKubeConfig(info.kubeconfig, token, user),
    writeKubeconfigForToken(token: string, user: string): string {
      const path = join(info.runDir, `${user.replace(/[^a-zA-Z0-9_.-]/g, '_')}.kubeconfig`);
      writeFileSync(path, tokenKubeConfig(info.kubeconfig, token, user).exportConfig(), { mode: 0o600 });
      return path;
    },
    kubectl,
    async kubectlOk(args, stdin, o): Promise<string> {
      const r = await kubectl(args, stdin, o);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
      return r.stdout;
    },
    memoryMiB(): Record<string, number> {
      const res: Record<string, number> = {};
      for (const [name, started] of Object.entries(info.pids)) {
        // kube-apiserver may have been stopped and started again (stopApiServer/startApiServer): its pid file is current.
        let pid = started;
        if (name === 'kube-apiserver') {
          try {
            pid = apiServerPid();
          } catch {
            pid = started;
          }
        }
        try {
          const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
          res[name] = m ? Math.round(Number(m[1]) / 1024) : 0;
        } catch {
          res[name] = 0;
        }
      }
      return res;
    },
    stop,
    apiServerPid,
    async stopApiServer(): Promise<void> {
      child.kill('SIGUSR1'); // control-plane.sh: stop kube-apiserver, keep everything else
      await until('kube-apiserver stopped', async () => apiServerState() === 'stopped', 30_000);
    },
    async startApiServer(timeoutMs = 120_000): Promise<void> {
      child.kill('SIGUSR2');
      await until('kube-apiserver started', async () => apiServerState() === 'started', 10_000);
      await until('kube-apiserver /readyz', async () => (await kubectl(['get', '--raw', '/readyz'])).code === 0, timeoutMs);
    },
  };
}

/** Same cluster and CA as the admin kubeconfig, but authenticated by a bearer token. */
export function tokenKubeConfig(adminKubeconfig: string, token: string, user = 'token-user'): KubeConfig {
  const admin = new KubeConfig();
  admin.loadFromString(readFileSync(adminKubeconfig, 'utf8'));
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: cluster.name, server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  return kc;
}

/** Run a command, collect its output; never rejects on a non-zero exit code. */
export function runCommand(cmd: string, args: string[], stdin?: string, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const p: ChildProcess = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.once('error', reject);
    p.once('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    p.stdin!.end(stdin ?? '');
  });
}

let shared: Promise<ControlPlane> | undefined;

/**
 * One control plane for the whole test process (starting one takes seconds; building it the first
 * time takes minutes). Stopped when the process exits (mocha runs with --exit). Suites that share it
 * must use their own namespaces / object names.
 */
export function sharedControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  shared ??= startControlPlane(opts).catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return shared;
}
