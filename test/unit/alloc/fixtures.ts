import { allocate, statusAfter, type AllocationResult, type Decision, type LbService } from '../../../src/alloc/index.js';
import { DEFAULT_ALLOCATOR_SETTINGS, type AllocatorSettings, type LoadBalancerPool } from '../../../src/config/ip-pools.js';
import { mustParseCidr } from '../../../src/config/net.js';

/** Small builders for allocator tests: a pool, a Service, one allocator pass written back into the statuses. */

export function pool(name: string, cidr: string, opts: Partial<Pick<LoadBalancerPool, 'assignmentMode' | 'disabled'>> = {}): LoadBalancerPool {
  return {
    name,
    cidr: mustParseCidr(cidr),
    assignmentMode: opts.assignmentMode ?? 'Automatic',
    disabled: opts.disabled ?? false,
    source: { index: 1, kind: 'IPPool', name },
  };
}

let clock = 0;
/** A LoadBalancer Service, IPv4 SingleStack, port 80/TCP; each new one is created one second after the last. */
export function svc(name: string, extra: Partial<LbService> = {}): LbService {
  clock++;
  const ts = new Date(Date.UTC(2024, 0, 1, 0, 0, clock)).toISOString().replace('.000Z', 'Z');
  return {
    namespace: 'default',
    name,
    uid: `uid-${name}`,
    creationTimestamp: ts,
    type: 'LoadBalancer',
    ipFamilies: ['IPv4'],
    ports: [{ port: 80, protocol: 'TCP' }],
    annotations: {},
    ingress: [],
    assignedBySvcbgp: [],
    ...extra,
  };
}

export const settings = (assignIPs: AllocatorSettings['assignIPs'] = 'AllServices'): AllocatorSettings => ({ ...DEFAULT_ALLOCATOR_SETTINGS, assignIPs });

export function decisionOf(r: AllocationResult, name: string): Decision {
  const d = r.decisions.find((x) => x.service.name === name);
  if (!d) throw new Error(`no decision for ${name}: ${r.decisions.map((x) => x.service.name).join(', ')}`);
  return d;
}

/** The Services with every decision written into their status (what the Kubernetes side does after a pass). */
export function written(services: readonly LbService[], r: AllocationResult): LbService[] {
  return services.map((s) => {
    const d = r.decisions.find((x) => x.service.uid === s.uid);
    return { ...s, ...statusAfter(s, d) };
  });
}

/** One pass, written back: the new Services and the result. */
export function pass(
  pools: readonly LoadBalancerPool[],
  services: readonly LbService[],
  set: AllocatorSettings = settings(),
): { services: LbService[]; result: AllocationResult } {
  const result = allocate(pools, set, services);
  return { services: written(services, result), result };
}

export const addressesOf = (d: Decision): string[] => d.addresses.map((a) => a.address);
