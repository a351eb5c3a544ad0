import type { V1Secret } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';

/** Reads one key of a Secret in the agent's namespace (BGP MD5 passwords). Values are never logged. */
export type SecretReader = (name: string, key: string) => Promise<string>;

export function kubeSecretReader(client: KubeClient, namespace: string): SecretReader {
  return async (name, key) => {
    let secret: V1Secret;
    try {
      secret = await client.get<V1Secret>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`);
    } catch (err) {
      const code = (err as { code?: number } | null)?.code;
      throw new Error(
        `Secret ${namespace}/${name}: ${code === 404 ? 'not found' : code === 403 ? 'forbidden (RBAC: the agent may only get Secrets in its own namespace)' : err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      );
    }
    const b64 = secret.data?.[key];
    if (b64 === undefined) {
      const plain = secret.stringData?.[key];
      if (plain !== undefined) return plain;
      throw new Error(`Secret ${namespace}/${name} has no key "${key}"`);
    }
    return Buffer.from(b64, 'base64').toString('utf8');
  };
}
