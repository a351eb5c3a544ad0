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
