/** The Kubernetes names svcbgp reads: its own annotations and class, and the labels it honours. */

export const ANNOTATION_COMMUNITIES = 'svcbgp.io/communities';
export const ANNOTATION_LARGE_COMMUNITIES = 'svcbgp.io/large-communities';
export const ANNOTATION_LOCAL_PREF = 'svcbgp.io/local-pref';
export const ANNOTATION_ADVERTISE = 'svcbgp.io/advertise';

/**
 * Services with the same value may share a load-balancer address (src/alloc/sharing.ts). svcbgp's own name: MetalLB's
 * allow-shared-ip and Cilium's sharing-key carry rules of their products, and a Service moved between products should
 * not share by accident.
 */
export const ANNOTATION_SHARING_KEY = 'svcbgp.io/sharing-key';

/** The annotations svcbgp reads; any other svcbgp.io/ key is reported as unknown. */
export const KNOWN_ANNOTATIONS: readonly string[] = [
  ANNOTATION_COMMUNITIES,
  ANNOTATION_LARGE_COMMUNITIES,
  ANNOTATION_LOCAL_PREF,
  ANNOTATION_ADVERTISE,
  ANNOTATION_SHARING_KEY,
];

/** Calico's load-balancer requests (kube-controllers' loadbalancer controller): a JSON list of addresses, at most one per family. */
export const ANNOTATION_LOAD_BALANCER_IPS = 'projectcalico.org/loadBalancerIPs';
/** JSON list of IPPool names (or a pool's CIDR as written in the pool) to take the IPv4 address from. */
export const ANNOTATION_IPV4_POOLS = 'projectcalico.org/ipv4pools';
export const ANNOTATION_IPV6_POOLS = 'projectcalico.org/ipv6pools';

/** The annotations the address allocator reads (src/alloc/request.ts); the caches keep them for LoadBalancer Services. */
export const ALLOCATOR_ANNOTATIONS: readonly string[] = [ANNOTATION_LOAD_BALANCER_IPS, ANNOTATION_IPV4_POOLS, ANNOTATION_IPV6_POOLS, ANNOTATION_SHARING_KEY];

/** The status condition that lists the load-balancer addresses svcbgp wrote (src/alloc/ownership.ts). */
export const OWNERSHIP_CONDITION_TYPE = 'svcbgp.io/AssignedAddresses';

/** Unknown svcbgp.io/ annotation keys named in a refusal (and kept by the caches: src/kube/project.ts). */
export const MAX_UNKNOWN_ANNOTATIONS = 3;

/** A node with this label (any value, as Kubernetes' service controller tests it) advertises nothing. */
export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** svcbgp's own spec.loadBalancerClass: Services without a class, or with this one, are svcbgp's to announce. */
export const LOAD_BALANCER_CLASS = 'svcbgp.io/bgp';
