/**
 * Builders for Kubernetes objects in the shape the informers deliver (camelCase, V1* types), and the seed
 * article's cluster: three nodes (192.168.1.10-12), nginx with 2 replicas on node-2 and node-3.
 */
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { parseConfig, type BgpConfig } from '../../../src/config/index.js';

export function node(name: string, labels: Record<string, string> = {}, addresses: string[] = []): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    status: { addresses: addresses.map((a) => ({ type: 'InternalIP', address: a })) },
  };
}

export interface SvcOpts {
  namespace?: string;
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  externalIPs?: string[];
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  lbIngress?: { ip?: string; hostname?: string; ipMode?: string }[];
  loadBalancerClass?: string;
  externalName?: string;
}

export function service(name: string, o: SvcOpts = {}): V1Service {
  const clusterIPs = o.clusterIPs ?? (o.clusterIP !== undefined ? [o.clusterIP] : undefined);
  const s: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: o.namespace ?? 'default' },
    spec: {
      type: o.type ?? 'ClusterIP',
      ...(clusterIPs ? { clusterIP: clusterIPs[0], clusterIPs } : {}),
      ...(o.externalIPs ? { externalIPs: o.externalIPs } : {}),
      ...(o.externalTrafficPolicy ? { externalTrafficPolicy: o.externalTrafficPolicy } : {}),
      internalTrafficPolicy: o.internalTrafficPolicy ?? 'Cluster',
      ...(o.externalName ? { externalName: o.externalName } : {}),
      ...(o.loadBalancerClass ? { loadBalancerClass: o.loadBalancerClass } : {}),
      ports: [{ port: 80, protocol: 'TCP' }],
    },
    status: { loadBalancer: o.lbIngress ? { ingress: o.lbIngress } : {} },
  };
  return s;
}

export interface Ep {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export function slice(svcName: string, addressType: 'IPv4' | 'IPv6' | 'FQDN', eps: Ep[], opts: { namespace?: string; suffix?: string } = {}): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${svcName}-${opts.suffix ?? addressType.toLowerCase()}`,
      namespace: opts.namespace ?? 'default',
      labels: { 'kubernetes.io/service-name': svcName },
    },
    addressType,
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      ...(e.node !== undefined ? { nodeName: e.node } : {}),
      conditions: {
        ...(e.ready !== undefined ? { ready: e.ready } : { ready: true }),
        ...(e.serving !== undefined ? { serving: e.serving } : { serving: e.ready ?? true }),
        ...(e.terminating !== undefined ? { terminating: e.terminating } : { terminating: false }),
      },
    })),
    ports: [{ port: 80, protocol: 'TCP' }],
  };
}

export const NODES = [node('node-1', {}, ['192.168.1.10']), node('node-2', {}, ['192.168.1.11']), node('node-3', {}, ['192.168.1.12'])];

/** The article's documents under the short names these tests use. */
export {
  BGP_PEER as PEER_DOC,
  BGP_CONFIGURATION_CLUSTER_IPS as CLUSTER_IPS_DOC,
  BGP_CONFIGURATION_EXTERNAL_IPS as EXTERNAL_IPS_DOC,
} from '../../fixtures/seed/article.js';

export function mustConfig(yaml: string): BgpConfig {
  const r = parseConfig(yaml);
  if (!r.ok) throw new Error(`config rejected:\n${r.errors.map((e) => e.text).join('\n')}`);
  return r.config;
}

/** default/kubernetes: the API server endpoint has no nodeName (host network, outside the Pod network). */
export function kubernetesService(): { svc: V1Service; slice: V1EndpointSlice } {
  return {
    svc: service('kubernetes', { clusterIP: '10.49.0.1' }),
    slice: slice('kubernetes', 'IPv4', [{ ip: '192.168.1.10' }]),
  };
}

export function nginxSlice(): V1EndpointSlice {
  return slice('nginx', 'IPv4', [
    { ip: '10.48.1.5', node: 'node-2' },
    { ip: '10.48.2.7', node: 'node-3' },
  ]);
}

export function prefixes(paths: readonly { route: { prefix: string } }[]): string[] {
  return paths.map((p) => p.route.prefix);
}
