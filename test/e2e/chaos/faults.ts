/**
 * The chaos suite's faults, each done the way it happens in a cluster (and where the lab cannot, the difference
 * named), and "converged": what an operator checks before calling the network healthy again.
 */
import { connectGobgp } from '../../../src/gobgp/client.js';
import { isAlive, signal } from '../../lab/exec.js';
import { sleep, type LabNode } from '../../lab/index.js';
import { sameTable } from '../seed/scenario.js';
import type { ServiceLab } from './service-lab.js';

export interface Fault {
  name: string;
  /**
   * A restart of something on the node side or of the API server: svcbgp promises the ToR deletes no route and no
   * request fails (asserted). The others (the ToR restarting, a node leaving) are reported.
   */
  hitless: boolean;
  /** Do the fault and what the cluster does about it (the kubelet restarting a container, the operator's undo). */
  inject(sl: ServiceLab, node: LabNode): Promise<void>;
}

/** How long the API server stays down / hung in one fault (short: the suite runs in CI). */
const API_DOWN_MS = 4000;
const API_HANG_MS = 8000;

/** SIGTERM the ToR's daemons as their service manager does (`systemctl restart bird` / `frr`), then start them again. */
async function restartTor(sl: ServiceLab): Promise<void> {
  const pids = sl.lab.router.pids().filter((p) => isAlive(p));
  for (const p of [...pids].reverse()) signal(p, 'SIGTERM'); // FRR: bgpd before zebra
  for (const t0 = Date.now(); pids.some((p) => isAlive(p)); ) {
    if (Date.now() - t0 > 15_000) for (const p of pids) signal(p, 'SIGKILL');
    await sleep(50);
  }
  await sl.lab.router.start();
}

export const FAULTS: readonly Fault[] = [
  {
    name: 'gobgpd SIGKILL (crash; the kubelet restarts the container)',
    hitless: true,
    // gobgpd itself killed (OOM kill, crash): no NOTIFICATION; the kubelet starts the container again at once (the
    // first restart has no back-off). The lab's gobgpd start removes the dead socket file itself; in a Pod the agent
    // does (src/agent/stale-socket.ts).
    inject: async (_sl, node) => {
      await node.gobgpd.kill();
      await sleep(500);
      await node.gobgpd.start();
    },
  },
  {
    name: 'Pod deletion (SIGTERM to both containers, SIGKILL after grace, empty emptyDir)',
    hitless: true,
    // As the kubelet does on Pod deletion (DaemonSet rollout, eviction): see SeedScenario.restartPod for the details
    // and how the lab differs from a kubelet (no container runtime, the same node's processes started again).
    inject: async (sl, node) => {
      await sl.sc.restartPod(node);
    },
  },
  {
    name: 'agent SIGKILL (the kubelet restarts the container)',
    hitless: true,
    inject: async (sl, node) => {
      await sl.sc.killAgent(node);
    },
  },
  {
    name: `API server stopped ${API_DOWN_MS / 1000} s and started`,
    hitless: true,
    // kube-apiserver stopped (SIGTERM) and started again with the same flags, as its service manager or a control
    // plane upgrade does; etcd, the controllers and every client keep running.
    inject: async (sl) => {
      await sl.cp.stopApiServer();
      await sleep(API_DOWN_MS);
      await sl.cp.startApiServer();
    },
  },
  {
    name: `API server hangs ${API_HANG_MS / 1000} s (SIGSTOP, SIGCONT)`,
    hitless: true,
    // An outage where the API server accepts connections and never answers (a stuck process, a full etcd): every
    // watch and request hangs until the client's own timeouts.
    inject: async (sl) => {
      const pid = sl.cp.apiServerPid();
      signal(pid, 'SIGSTOP');
      try {
        await sleep(API_HANG_MS);
      } finally {
        signal(pid, 'SIGCONT');
      }
    },
  },
  {
    name: 'ToR restart (SIGTERM to its routing daemons, started again)',
    hitless: false,
    // The lab's ToR runs no graceful restart of its own (BIRD without -R and kernel `persist`, FRR's zebra without
    // -K): on SIGTERM it removes its kernel routes, so traffic stops until the sessions and routes are back. Reported.
    inject: async (sl) => {
      await restartTor(sl);
    },
  },
  {
    name: 'node leaves (cordon + exclude label) and comes back',
    hitless: true,
    // The operator takes the node out before maintenance (see ServiceLab.leave: no Pod evictions) and puts it back
    // once svcbgp withdrew its routes. Not a restart, but svcbgp promises the same to the traffic: nothing fails.
    inject: async (sl, node) => {
      await sl.leave(node);
      const away = sl.expected(new Set([node.name]));
      await until(`${node.name} gone from the ToR's live routes`, () => sl.liveTableIs(away), 60_000);
      // After the withdrawal, not only the kernel change: the drain time has to run out first.
      await until(`${node.name}'s gobgpd holds no path`, async () => (await node.gobgpd.ribPrefixes()).length === 0, 60_000);
      await sl.comeBack(node);
    },
  },
];

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** What is not converged yet, or undefined when everything is: the operator's checklist. */
export async function notConverged(sl: ServiceLab): Promise<string | undefined> {
  const sessions = await sl.lab.torSessions();
  const down = sessions.filter((s) => !s.established).map((s) => s.peer);
  if (down.length > 0) return `ToR sessions not Established: ${down.join(', ')}`;
  for (const a of sl.sc.agents) {
    if ((await sl.sc.agentHttp(a, '/readyz')).status !== 200) return `${a.node.name} agent not ready`;
  }
  for (const n of sl.lab.nodes) {
    const client = connectGobgp(n.gobgpd.target, { deadlineMs: 2000 });
    try {
      const peers = await client.listPeers();
      if (!peers.every((p) => p.sessionState === 'established' && !p.localRestarting)) return `${n.name}: gobgpd has not sent its End-of-RIB yet`;
    } finally {
      client.close();
    }
  }
  const live = await sl.liveTable();
  if (!sameTable(live, sl.expected())) return `live routes at the ToR: ${JSON.stringify(live)}`;
  return undefined;
}

/** Wait until notConverged() says nothing; returns when. */
export async function waitConverged(sl: ServiceLab, timeoutMs = 180_000): Promise<number> {
  const t0 = Date.now();
  let last: string | undefined = 'not checked';
  for (;;) {
    last = await notConverged(sl).catch((e: unknown) => String(e));
    if (last === undefined) return Date.now();
    if (Date.now() - t0 > timeoutMs) throw new Error(`not converged after ${timeoutMs} ms: ${last}`);
    await sleep(200);
  }
}
