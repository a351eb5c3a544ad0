import { KubeConfig } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * --kubeconfig FILE wins; else in-cluster (KUBERNETES_SERVICE_HOST and the mounted ServiceAccount token);
 * else $KUBECONFIG / ~/.kube/config (client-node's loadFromDefault).
 */
export function loadKubeConfig(file: string | undefined): { kc: KubeConfig; source: string } {
  const kc = new KubeConfig();
  if (file) {
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new Error(`cannot load --kubeconfig ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { kc, source: `file ${file}` };
  }
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync(`${SA_DIR}/token`)) {
    kc.loadFromCluster();
    return { kc, source: 'in-cluster service account' };
  }
  try {
    kc.loadFromDefault();
  } catch (err) {
    throw new Error(`cannot load the kubeconfig from ${process.env.KUBECONFIG ? `KUBECONFIG=${process.env.KUBECONFIG}` : '~/.kube/config'}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!kc.getCurrentCluster()) {
    throw new Error('no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, or run in a Pod with a ServiceAccount');
  }
  return { kc, source: process.env.KUBECONFIG ? `KUBECONFIG=${process.env.KUBECONFIG}` : 'default kubeconfig' };
}

/** The agent's own namespace: --namespace / POD_NAMESPACE, else the ServiceAccount's, else svcbgp-system. */
export function agentNamespace(explicit: string | undefined): string {
  if (explicit) return explicit;
  try {
    return readFileSync(`${SA_DIR}/namespace`, 'utf8').trim() || 'svcbgp-system';
  } catch {
    return 'svcbgp-system';
  }
}
