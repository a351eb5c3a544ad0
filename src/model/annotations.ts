/** The Kubernetes names svcbgp reads: its own annotations and class, and the labels it honours. */

export const ANNOTATION_COMMUNITIES = 'svcbgp.io/communities';
export const ANNOTATION_LARGE_COMMUNITIES = 'svcbgp.io/large-communities';
export const ANNOTATION_LOCAL_PREF = 'svcbgp.io/local-pref';
export const ANNOTATION_ADVERTISE = 'svcbgp.io/advertise';

/** The annotations svcbgp reads; any other svcbgp.io/ key is reported as unknown. */
export const KNOWN_ANNOTATIONS: readonly string[] = [ANNOTATION_COMMUNITIES, ANNOTATION_LARGE_COMMUNITIES, ANNOTATION_LOCAL_PREF, ANNOTATION_ADVERTISE];

/** Unknown svcbgp.io/ annotation keys named in a refusal (and kept by the caches: src/kube/project.ts). */
export const MAX_UNKNOWN_ANNOTATIONS = 3;

/** A node with this label (any value, as Kubernetes' service controller tests it) advertises nothing. */
export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** svcbgp's own spec.loadBalancerClass: Services without a class, or with this one, are svcbgp's to announce. */
export const LOAD_BALANCER_CLASS = 'svcbgp.io/bgp';
