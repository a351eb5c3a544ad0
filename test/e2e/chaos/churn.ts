/**
 * Service churn in the background of the chaos suite: what a busy cluster does while nodes restart. Every
 * `intervalMs` one kubectl action on the suite's namespace: create a Service (externalTrafficPolicy Local, an
 * external IP from 192.168.3.200-219, so it gets /32s at the ToR via the nodes of the `churn` Pods), delete one, or
 * scale the `churn` Deployment between 1 and 3 replicas (its /32s then follow the Pods). Never the `web` Services:
 * their routes are the live ones the suite counts deletions of. Deterministic: the choices come from a seeded PRNG.
 *
 * Every kubectl call has --request-timeout, so an API server that hangs (SIGSTOP) only makes actions fail.
 */
import type { SeedScenario } from '../seed/scenario.js';
import { sleep } from '../../lab/index.js';

const CHURN_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: churn
spec:
  replicas: 2
  selector:
    matchLabels: {app: churn}
  template:
    metadata:
      labels: {app: churn}
    spec:
      containers:
      - {name: churn, image: nginx, ports: [{containerPort: 80}]}
`;

export const CHURN_POOL_SIZE = 20;
export const churnAddress = (i: number): string => `192.168.3.${200 + i}`;

function churnService(i: number): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: churn-${i}
  labels: {svcbgp-test: churn}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: churn}
  externalIPs: [${churnAddress(i)}]
  ports: [{port: 80}]
`;
}

/** mulberry32: a tiny seeded PRNG (reproducible churn). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Churn {
  stats(): { actions: number; failed: number };
  /** Stop after the action in progress; resolves with the totals. */
  stop(): Promise<{ actions: number; failed: number }>;
}

export async function startChurn(sc: SeedScenario, opts: { intervalMs?: number; seed?: number } = {}): Promise<Churn> {
  await sc.kubectl(['apply', '-f', '-'], CHURN_DEPLOYMENT);
  const random = prng(opts.seed ?? 14);
  const live = new Set<number>();
  let actions = 0;
  let failed = 0;
  let running = true;
  const act = async (): Promise<void> => {
    const r = random();
    const free = [...Array(CHURN_POOL_SIZE).keys()].filter((i) => !live.has(i));
    if (r < 0.45 && free.length > 0) {
      const i = free[Math.floor(random() * free.length)]!;
      await sc.kubectl(['apply', '--request-timeout=5s', '-f', '-'], churnService(i));
      live.add(i);
    } else if (r < 0.8 && live.size > 0) {
      const all = [...live];
      const i = all[Math.floor(random() * all.length)]!;
      live.delete(i); // gone or not, it is no longer ours to count on
      await sc.kubectl(['delete', 'service', `churn-${i}`, '--request-timeout=5s', '--ignore-not-found', '--wait=false']);
    } else {
      await sc.kubectl(['scale', 'deployment', 'churn', '--request-timeout=5s', '--replicas', String(1 + Math.floor(random() * 3))]);
    }
  };
  const loop = (async () => {
    while (running) {
      actions++;
      await act().catch(() => void failed++);
      await sleep(opts.intervalMs ?? 1000);
    }
  })();
  return {
    stats: () => ({ actions, failed }),
    stop: async () => {
      running = false;
      await loop;
      return { actions, failed };
    },
  };
}
