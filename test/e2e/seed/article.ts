/**
 * The seed article's inputs, as the article writes them (shared/seed/calico-service-ip-advertisement.txt).
 * The BGP documents are projectcalico.org/v3, verbatim: svcbgp reads Calico's documents as they are. In the
 * lab they live in the agents' --config file (the DaemonSet mounts the same documents from a ConfigMap), which
 * the walk rewrites where the article runs `calicoctl apply/create`.
 */

import { BGP_CONFIGURATION_CLUSTER_IPS, BGP_CONFIGURATION_EXTERNAL_IPS, BGP_PEER } from '../../fixtures/seed/article.js';

/** The article's BGP documents (one source of truth: test/fixtures/seed/article.ts). */
export { BGP_CONFIGURATION_CLUSTER_IPS, BGP_CONFIGURATION_EXTERNAL_IPS, BGP_PEER };

/** The config file's content after each of the article's configuration steps (documents joined with ---). */
export const CONFIG_AFTER_STEP = {
  1: [BGP_PEER],
  2: [BGP_PEER, BGP_CONFIGURATION_CLUSTER_IPS],
  5: [BGP_PEER, BGP_CONFIGURATION_EXTERNAL_IPS],
} as const;

export const CLUSTER_IP_RANGE = '10.49.0.0/16';
export const EXTERNAL_IP_RANGE = '192.168.3.0/24';
export const EXTERNAL_IP = '192.168.3.180';
/** Beyond the article: an external IP outside every configured range; must never reach the ToR. */
export const FOREIGN_EXTERNAL_IP = '192.168.9.9';

/** The lab's nodes as Kubernetes Nodes: names as the lab names them, InternalIPs of both families. */
export const SEED_NODES = [
  { name: 'node-1', ipv4: '192.168.1.10', ipv6: 'fd00:1::10' },
  { name: 'node-2', ipv4: '192.168.1.11', ipv6: 'fd00:1::11' },
  { name: 'node-3', ipv4: '192.168.1.12', ipv6: 'fd00:1::12' },
] as const;

/** Step 3: the article's Deployment, verbatim (the same text as test/helpers/kube's fixture). */
export { SEED_NGINX_DEPLOYMENT } from '../../helpers/kube/fixtures.js';

/**
 * The article's kubectl commands as argument lists, patches verbatim. The article's `kubectl expose nginx` lacks
 * the resource type, which kubectl rejects; the working command is `kubectl expose deployment nginx --port 80`.
 */
export const KUBECTL_EXPOSE = ['expose', 'deployment', 'nginx', '--port', '80'];
export const KUBECTL_PATCH_LOCAL = ['patch', 'service', 'nginx', '-p', '{"spec":{"type": "NodePort", "externalTrafficPolicy":"Local"}}'];
export const KUBECTL_PATCH_EXTERNAL_IP = ['patch', 'svc', 'nginx', '-p', '{"spec": {"externalIPs": ["192.168.3.180"]}}'];
/** Beyond the article: a second external IP outside 192.168.3.0/24. */
export const KUBECTL_PATCH_FOREIGN_IP = ['patch', 'svc', 'nginx', '-p', '{"spec": {"externalIPs": ["192.168.3.180", "192.168.9.9"]}}'];

// ---------------------------------------------------------------------------------------------------------------
// The dual-stack walk (issue 14): the same steps on a dual-stack cluster. The control plane's IPv6 Service range
// (test/k8s/control-plane.sh) sits beside 10.49.0.0/16; the IPv6 external range beside 192.168.3.0/24. The IPv6
// names mirror the IPv4 ones (49 for cluster IPs, 3 for external IPs, 9 for the foreign one).

export const CLUSTER_IP_RANGE_V6 = 'fd00:49::/112';
export const EXTERNAL_IP_RANGE_V6 = 'fd00:3::/64';
export const EXTERNAL_IP_V6 = 'fd00:3::180';
/** Outside every configured IPv6 range: must never reach the ToR. */
export const FOREIGN_EXTERNAL_IP_V6 = 'fd00:9::9';

/**
 * A projectcalico.org/v3 BGPConfiguration "default" with these ranges, as Calico takes it. An absent list is not
 * written; an empty one is written as the article's step 5 writes it (`serviceClusterIPs:`: YAML null, no range).
 */
export function bgpConfiguration(ranges: { clusterIPs?: readonly string[]; externalIPs?: readonly string[] }): string {
  const field = (name: string, cidrs: readonly string[] | undefined): string[] =>
    cidrs === undefined ? [] : [`  ${name}:`, ...cidrs.map((c) => `  - cidr: ${c}`)];
  return [
    'apiVersion: projectcalico.org/v3',
    'kind: BGPConfiguration',
    'metadata:',
    '  name: default',
    'spec:',
    ...field('serviceClusterIPs', ranges.clusterIPs),
    ...field('serviceExternalIPs', ranges.externalIPs),
    '',
  ].join('\n');
}

/** Step 2 on a dual-stack cluster: both cluster IP ranges. */
export const BGP_CONFIGURATION_CLUSTER_IPS_DUAL_STACK = bgpConfiguration({ clusterIPs: [CLUSTER_IP_RANGE, CLUSTER_IP_RANGE_V6] });

/** Step 5 on a dual-stack cluster: both external IP ranges, no cluster IPs. */
export const BGP_CONFIGURATION_EXTERNAL_IPS_DUAL_STACK = bgpConfiguration({ clusterIPs: [], externalIPs: [EXTERNAL_IP_RANGE, EXTERNAL_IP_RANGE_V6] });

/** The article's closing remark ("you can expose both sets at once"), dual-stack: all four ranges in one document. */
export const BGP_CONFIGURATION_BOTH_DUAL_STACK = bgpConfiguration({
  clusterIPs: [CLUSTER_IP_RANGE, CLUSTER_IP_RANGE_V6],
  externalIPs: [EXTERNAL_IP_RANGE, EXTERNAL_IP_RANGE_V6],
});

/** An EndpointSlice addressType: the controller writes one slice (or more) per family of the Service. */
export type SliceAddressType = 'IPv4' | 'IPv6';

/**
 * One walk of the article: what changes between the IPv4 walk (the article as written) and the dual-stack one.
 * SeedScenario derives every expected ToR table from it (each range and host route via the nodes' address of
 * its own family), so both walks run the same steps.
 */
export interface ArticleWalk {
  name: 'ipv4' | 'dual-stack';
  config: { readonly 1: readonly string[]; readonly 2: readonly string[]; readonly 5: readonly string[] };
  clusterIPRanges: readonly string[];
  externalIPRanges: readonly string[];
  /** Step 6's external IPs. */
  externalIPs: readonly string[];
  /** Step 3's `kubectl expose`. */
  expose: readonly string[];
  /** Step 6's `kubectl patch`. */
  patchExternalIP: readonly string[];
  /** The families of the nginx Service, as its EndpointSlices' addressType. */
  addressTypes: readonly SliceAddressType[];
}

export const IPV4_WALK: ArticleWalk = {
  name: 'ipv4',
  config: CONFIG_AFTER_STEP,
  clusterIPRanges: [CLUSTER_IP_RANGE],
  externalIPRanges: [EXTERNAL_IP_RANGE],
  externalIPs: [EXTERNAL_IP],
  expose: KUBECTL_EXPOSE,
  patchExternalIP: KUBECTL_PATCH_EXTERNAL_IP,
  addressTypes: ['IPv4'],
};

/**
 * The dual-stack walk: `kubectl expose` with `ipFamilyPolicy: PreferDualStack` (kubectl expose has no flag for it;
 * --overrides merges into the Service it generates and needs the apiVersion), so the Service gets an IPv4 and an
 * IPv6 cluster IP (IPv4 first: the cluster's primary family) and the EndpointSlice controller one slice per family.
 */
export const DUAL_STACK_WALK: ArticleWalk = {
  name: 'dual-stack',
  config: {
    1: [BGP_PEER],
    2: [BGP_PEER, BGP_CONFIGURATION_CLUSTER_IPS_DUAL_STACK],
    5: [BGP_PEER, BGP_CONFIGURATION_EXTERNAL_IPS_DUAL_STACK],
  },
  clusterIPRanges: [CLUSTER_IP_RANGE, CLUSTER_IP_RANGE_V6],
  externalIPRanges: [EXTERNAL_IP_RANGE, EXTERNAL_IP_RANGE_V6],
  externalIPs: [EXTERNAL_IP, EXTERNAL_IP_V6],
  expose: [...KUBECTL_EXPOSE, '--overrides', '{"apiVersion": "v1", "spec": {"ipFamilyPolicy": "PreferDualStack"}}'],
  patchExternalIP: ['patch', 'svc', 'nginx', '-p', `{"spec": {"externalIPs": ["${EXTERNAL_IP}", "${EXTERNAL_IP_V6}"]}}`],
  addressTypes: ['IPv4', 'IPv6'],
};

/** Beyond the article, dual-stack: an IPv6 external IP outside every configured IPv6 range beside the two inside. */
export const KUBECTL_PATCH_FOREIGN_IP_V6 = [
  'patch',
  'svc',
  'nginx',
  '-p',
  `{"spec": {"externalIPs": ["${EXTERNAL_IP}", "${EXTERNAL_IP_V6}", "${FOREIGN_EXTERNAL_IP_V6}"]}}`,
];
