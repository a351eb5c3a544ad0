import { sleep, type Lab } from '../../lab/index.js';
import { isDraining, torBgpPaths, type TorPath } from '../../lab/tor-paths.js';

/**
 * How the ToR holds one node's path for a prefix over time, sampled from its BGP table: `normal` (received, no
 * GRACEFUL_SHUTDOWN), `draining` (65535:0 and LOCAL_PREF 0: out of the ECMP set, still there), `absent` (withdrawn).
 * The node-leaving contract is the sequence normal -> draining -> absent: the ToR saw the drain before the withdrawal.
 */
export type PathState = 'normal' | 'draining' | 'absent';

export interface PathStateChange {
  at: number;
  state: PathState;
}

export function pathState(paths: readonly TorPath[], nextHop: string): PathState {
  const p = paths.find((x) => x.nextHop === nextHop);
  if (!p) return 'absent';
  return isDraining(p) ? 'draining' : 'normal';
}

/** Append a sample; only changes are kept. */
export function noteState(history: PathStateChange[], at: number, state: PathState): void {
  if (history[history.length - 1]?.state !== state) history.push({ at, state });
}

/** The states in order, without the times: ["normal", "draining", "absent"]. */
export const stateSequence = (h: readonly PathStateChange[]): PathState[] => h.map((c) => c.state);

export interface DrainWatch {
  /** prefix -> the node's states over time. */
  stop(): Promise<Record<string, PathStateChange[]>>;
}

/** Sample the ToR's BGP paths of `prefixes` for `nextHop` every `intervalMs` until stop(). */
export function watchDrain(lab: Lab, prefixes: readonly string[], nextHop: string, intervalMs = 150): DrainWatch {
  const history: Record<string, PathStateChange[]> = Object.fromEntries(prefixes.map((p) => [p, []]));
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const prefix of prefixes) {
        const paths = await torBgpPaths(lab.router, prefix).catch(() => undefined);
        if (paths) noteState(history[prefix]!, Date.now(), pathState(paths, nextHop));
      }
      await sleep(intervalMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return history;
    },
  };
}
