import type { Family } from '../model/route.js';
import type { ServiceRef } from '../model/path.js';

/**
 * The allocator's vocabulary: what it reads of a Service, and the decision it returns for each. A decision carries
 * its reason as a value (code + text), so the same result answers "which address?" and "why none?" for logs,
 * Events, metrics, `svcbgp status` and `explain`.
 */

/** A Service as the allocator reads it (./service-input.ts builds it from a Kubernetes object). */
export interface LbService {
  namespace: string;
  name: string;
  uid: string;
  /** metadata.creationTimestamp as the API server writes it (RFC 3339, UTC): the allocation order. */
  creationTimestamp: string;
  /** spec.type; only LoadBalancer Services get addresses. */
  type: string;
  loadBalancerClass?: string;
  /** SingleStack (also when absent), PreferDualStack, RequireDualStack. */
  ipFamilyPolicy?: string;
  /** spec.ipFamilies in order ("IPv4", "IPv6"); the first is the primary family. */
  ipFamilies: readonly string[];
  ports: readonly ServicePort[];
  /** Cluster (also when absent) or Local. */
  externalTrafficPolicy?: string;
  selector?: Readonly<Record<string, string>>;
  /** The annotations the allocator reads (./request.ts); others may be present and are ignored. */
  annotations: Readonly<Record<string, string>>;
  /** spec.loadBalancerIP (deprecated by Kubernetes, still honoured as a request of one address). */
  loadBalancerIP?: string;
  /** status.loadBalancer.ingress[].ip, as written (entries without an ip left out). */
  ingress: readonly string[];
  /** The addresses the ownership condition says svcbgp wrote (./ownership.ts); empty when there is none. */
  assignedBySvcbgp: readonly string[];
}

export interface ServicePort {
  port: number;
  /** TCP (also when absent), UDP or SCTP. */
  protocol: string;
}

/**
 * Why a Service has no address (or not every address it wants). Every code is decided in one place of
 * ./allocate.ts or ./request.ts, named in docs/allocation.md.
 */
export type PendingCode =
  | 'class-not-ours'
  | 'not-requested'
  | 'invalid-request'
  | 'unknown-pool'
  | 'foreign-address'
  | 'no-pool-for-family'
  | 'manual-pool-not-requested'
  | 'pool-disabled'
  | 'pool-exhausted'
  | 'outside-every-pool'
  | 'requested-address-taken'
  | 'sharing-refused';

/** Why svcbgp takes back addresses it wrote. */
export type FreeCode = 'not-load-balancer' | 'class-not-ours' | 'not-requested';

/** Why a Service keeps or gets what it has. */
export type HeldCode = 'kept' | 'assigned';

export interface Reason<C extends string> {
  code: C;
  /** One line naming the Service, the address or pool, and what would change the outcome. */
  text: string;
}

/** An address of a Service after the plan: the pool it lies in, and whether other Services share it. */
export interface HeldAddress {
  address: string;
  family: Family;
  pool: string;
  /** The other Services that hold the same address through a sharing key (sorted), when any. */
  sharedWith?: ServiceRef[];
}

/** An address written for the first time; `after`: the Service whose release of it must be written first. */
export interface AddedAddress {
  address: string;
  after?: ServiceRef & { uid: string };
}

/** Why an address is taken away from a Service that keeps being ours (each is also in `released`). */
export interface Release {
  address: string;
  code: 'outside-every-pool' | 'not-requested-any-more' | 'family-not-wanted' | 'duplicate' | 'sharing-refused';
  text: string;
}

/**
 * keep: the status already holds the right addresses (imported), nothing to write.
 * assign: write the status: `addresses` (with `added` new ones), `released` removed.
 * free: the Service is no longer ours, or no longer LoadBalancer: remove `released`, which svcbgp had written.
 * pending: the Service lacks an address it wants; `reason` says why. It may still hold others (`addresses`: a
 *   RequireDualStack Service with one family served), and may need a write (`released`).
 */
export type DecisionAction = 'keep' | 'assign' | 'free' | 'pending';

export interface Decision {
  service: ServiceRef & { uid: string };
  action: DecisionAction;
  /** svcbgp's addresses of the Service once the plan is written, sorted (IPv4 first). */
  addresses: HeldAddress[];
  added: AddedAddress[];
  released: string[];
  /** Why each released address goes. */
  releases: Release[];
  reason: Reason<PendingCode | FreeCode | HeldCode>;
  /** A PreferDualStack Service served in one family: why not the other. */
  missing?: Reason<PendingCode>[];
  /** True when the Service's status (ingress or the ownership condition) must be written. */
  write: boolean;
}

export interface PoolUsage {
  pool: string;
  cidr: string;
  family: Family;
  assignmentMode: 'Automatic' | 'Manual';
  disabled: boolean;
  /** Every address of the CIDR. */
  size: bigint;
  /** Distinct addresses held by any Service (svcbgp's or another's) once the plan is written. */
  used: number;
  free: bigint;
}

export interface AllocationResult {
  /** One per Service that is a LoadBalancer or holds an address svcbgp wrote; in allocation order. */
  decisions: Decision[];
  usage: PoolUsage[];
}
