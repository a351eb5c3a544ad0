import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, runSyncQuiet, signal } from './exec.js';
import { frrStateDir } from './frr.js';
import { LAB_NS_PATTERN, labBaseDir } from './topology.js';

/**
 * Teardown that works in every situation: a normal destroy(), a failed test, process exit, SIGINT/SIGTERM,
 * and a later run finding what a crashed run (SIGKILL, OOM) left behind. Synchronous on purpose: in an
 * 'exit' handler no event-loop turn is left.
 */

/** What lab.json records; written before any namespace is made, so a leftover namespace always has one. */
export interface LabState {
  id: string;
  prefix: string;
  router: string;
  namespaces: string[];
  runDir: string;
  ownerPid: number;
  keep: boolean;
  createdAt: string;
  /** Processes started outside the lab namespaces (e.g. the agent in the root namespace); killed by group. */
  extraPids: number[];
}

export function readState(runDir: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, 'lab.json'), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/** Kill every process of a lab, delete its namespaces (and so every link and the bridge), remove its dirs. */
export function destroySync(state: Pick<LabState, 'namespaces' | 'runDir' | 'extraPids' | 'prefix'>): void {
  for (const pid of state.extraPids) {
    signal(-pid, 'SIGKILL'); // its process group (spawned detached)
    signal(pid, 'SIGKILL');
  }
  // Pod namespaces (test/lab/pods.ts) by name too: a node simulator in another process made them (the demo's)
  const pods = runSyncQuiet('ip', ['netns', 'list'])
    .stdout.split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((ns) => new RegExp(`^${state.prefix}-p[0-9]+$`).test(ns));
  const namespaces = [...new Set([...state.namespaces, ...pods])];
  for (const ns of namespaces) {
    if (!existsSync(`/run/netns/${ns}`)) continue;
    const pids = runSyncQuiet('ip', ['netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean).map(Number);
    for (const pid of pids) signal(pid, 'SIGKILL');
  }
  for (const ns of namespaces) {
    if (existsSync(`/run/netns/${ns}`)) runSyncQuiet('ip', ['netns', 'del', ns]);
  }
  rmSync(frrStateDir(`${state.prefix}-tor`), { recursive: true, force: true });
  rmSync(state.runDir, { recursive: true, force: true });
}

type Destroyer = () => void;
const live = new Map<string, Destroyer>();
let handlersInstalled = false;

/** Register a lab for teardown on exit/SIGINT/SIGTERM. Returns the unregister function. */
export function registerForExit(id: string, destroy: Destroyer): () => void {
  installHandlers();
  live.set(id, destroy);
  return () => live.delete(id);
}

function destroyAll(): void {
  for (const [id, d] of live) {
    live.delete(id);
    try {
      d();
    } catch {
      /* best effort at exit */
    }
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', destroyAll);
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(sig, () => {
      destroyAll();
      process.exit(code);
    });
  }
}

export interface StaleReport {
  removed: string[];
  skipped: { prefix: string; reason: string }[];
}

/** Destroy one lab by its prefix ("sb1a2b") or id ("1a2b"), whoever owns it. Returns false if nothing was there. */
export function destroyByPrefix(which: string): boolean {
  const prefix = which.startsWith('sb') ? which : `sb${which}`;
  const runDir = join(labBaseDir(), prefix);
  const state = readState(runDir);
  const namespaces = runSyncQuiet('ip', ['netns', 'list'])
    .stdout.split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((ns) => LAB_NS_PATTERN.test(ns) && ns.startsWith(`${prefix}-`));
  if (!state && namespaces.length === 0 && !existsSync(runDir)) return false;
  destroySync({ prefix, runDir, namespaces: [...new Set([...namespaces, ...(state?.namespaces ?? [])])], extraPids: state?.extraPids ?? [] });
  return true;
}

/**
 * Remove leftovers of earlier runs: namespaces named like the lab's (`sb<hex4>-...`), their run dirs and FRR
 * state dirs. A lab whose owner process is still alive is left alone (a parallel run), and so is a lab kept
 * with --keep unless includeKept.
 */
export function cleanupStale(opts: { includeKept?: boolean } = {}): StaleReport {
  const report: StaleReport = { removed: [], skipped: [] };
  const byPrefix = new Map<string, string[]>();
  const nsList = runSyncQuiet('ip', ['netns', 'list']).stdout.split('\n');
  for (const line of nsList) {
    const ns = line.trim().split(/\s+/)[0] ?? '';
    if (!LAB_NS_PATTERN.test(ns)) continue;
    const prefix = ns.slice(0, ns.indexOf('-'));
    byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), ns]);
  }
  const base = labBaseDir();
  if (existsSync(base)) {
    for (const d of readdirSync(base)) if (/^sb[0-9a-f]{4}$/.test(d) && !byPrefix.has(d)) byPrefix.set(d, []);
  }
  for (const [prefix, namespaces] of byPrefix) {
    const runDir = join(base, prefix);
    const state = readState(runDir);
    if (state?.keep) {
      if (!opts.includeKept) {
        report.skipped.push({ prefix, reason: `kept (--keep); remove with: scripts/lab-net.sh down ${prefix}` });
        continue;
      }
    } else if (state && isAlive(state.ownerPid)) {
      // A run in progress (a parallel suite, or this very process): not a leftover.
      report.skipped.push({ prefix, reason: `owner pid ${state.ownerPid} is alive` });
      continue;
    }
    destroySync({
      prefix,
      runDir,
      namespaces: [...new Set([...namespaces, ...(state?.namespaces ?? [])])],
      extraPids: state?.extraPids ?? [],
    });
    report.removed.push(prefix);
  }
  return report;
}
