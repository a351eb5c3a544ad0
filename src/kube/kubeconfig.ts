import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Where the API server is and how to authenticate to it: what the agent's own client (src/kube/client.ts) needs,
 * read from a kubeconfig's current context or from the Pod's ServiceAccount.
 *
 * svcbgp reads kubeconfigs itself rather than through @kubernetes/client-node's KubeConfig: that class's module
 * loads client-node's ~900 generated API models, about 80 MiB of RSS and 0.5-0.7 s of start-up in a process whose
 * whole budget at 10,000 Services is 150 MiB (issue 10; docs/bench.md). The ServiceAccount, client certificates and
 * tokens are read here; an `exec` or `auth-provider` user (cloud CLIs, on an operator's laptop) is handed to
 * client-node, loaded only then (`plugin`).
 */
export interface KubeTarget {
  /** https://host:port (or http:// for a local insecure port), without a trailing slash. */
  server: string;
  /** PEM. Absent: the system's trust store. */
  ca?: Buffer;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  cert?: Buffer;
  key?: Buffer;
  /** A bearer token, fixed. */
  token?: string;
  /** A bearer token re-read from this file (a projected ServiceAccount token is rotated by the kubelet). */
  tokenFile?: string;
  basicAuth?: { username: string; password: string };
  /** The kubeconfig text and the directory its relative paths are in, for a user with exec or auth-provider. */
  plugin?: { kubeconfig: string; dir: string };
}

export interface LoadedKubeConfig {
  target: KubeTarget;
  /** Where it came from, for the start-up log. */
  source: string;
  /** The current context's namespace, if it names one. */
  namespace?: string;
}

/**
 * --kubeconfig FILE wins; else in-cluster (KUBERNETES_SERVICE_HOST and the mounted ServiceAccount token);
 * else $KUBECONFIG (its first file) / ~/.kube/config.
 */
export function loadKubeConfig(file: string | undefined): LoadedKubeConfig {
  if (file) {
    try {
      return { ...kubeConfigFromFile(file), source: `file ${file}` };
    } catch (err) {
      throw new Error(`cannot load --kubeconfig ${file}: ${message(err)}`);
    }
  }
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync(`${SA_DIR}/token`)) {
    return { target: inClusterTarget(), source: 'in-cluster service account' };
  }
  const env = process.env.KUBECONFIG?.split(':').find((f) => f !== '');
  const path = env ?? join(homedir(), '.kube', 'config');
  if (!env && !existsSync(path)) {
    throw new Error('no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, or run in a Pod with a ServiceAccount');
  }
  try {
    return { ...kubeConfigFromFile(path), source: env ? `KUBECONFIG=${process.env.KUBECONFIG}` : 'default kubeconfig' };
  } catch (err) {
    throw new Error(`cannot load the kubeconfig from ${env ? `KUBECONFIG=${process.env.KUBECONFIG}` : '~/.kube/config'}: ${message(err)}`);
  }
}

/** The Pod's ServiceAccount: the API server's in-cluster address, its CA and the rotated token file. */
export function inClusterTarget(saDir = SA_DIR): KubeTarget {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '';
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    ca: readFileSync(`${saDir}/ca.crt`),
    tokenFile: `${saDir}/token`,
  };
}

export function kubeConfigFromFile(path: string): Omit<LoadedKubeConfig, 'source'> {
  return kubeConfigFromText(readFileSync(path, 'utf8'), dirname(resolve(path)));
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The named entry of a kubeconfig list (clusters, users, contexts): `{name, <kind>: {...}}`. */
function entry(doc: Obj, list: string, kind: string, name: string): Obj {
  const items = doc[list];
  const found = Array.isArray(items) ? items.find((i) => isObj(i) && i['name'] === name) : undefined;
  if (!isObj(found)) throw new Error(`no ${kind} named "${name}" in ${list}`);
  const body = found[kind];
  return isObj(body) ? body : {};
}

function str(o: Obj, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A kubeconfig's current context, as a KubeTarget. `dir` is where relative file paths are resolved. */
export function kubeConfigFromText(text: string, dir: string): Omit<LoadedKubeConfig, 'source'> {
  const doc: unknown = parseYaml(text);
  if (!isObj(doc)) throw new Error('not a kubeconfig (no mapping at the top)');
  const contextName = str(doc, 'current-context');
  if (!contextName) throw new Error('no current-context');
  const context = entry(doc, 'contexts', 'context', contextName);
  const clusterName = str(context, 'cluster');
  if (!clusterName) throw new Error(`context "${contextName}" names no cluster`);
  const cluster = entry(doc, 'clusters', 'cluster', clusterName);
  const userName = str(context, 'user');
  const user = userName ? entry(doc, 'users', 'user', userName) : {};
  const server = str(cluster, 'server');
  if (!server) throw new Error(`cluster "${clusterName}" has no server`);
  const file = (p: string): Buffer => readFileSync(isAbsolute(p) ? p : join(dir, p));
  const data = (o: Obj, dataKey: string, fileKey: string): Buffer | undefined => {
    const d = str(o, dataKey);
    if (d) return Buffer.from(d, 'base64');
    const f = str(o, fileKey);
    return f ? file(f) : undefined;
  };
  const target: KubeTarget = { server: server.replace(/\/+$/, '') };
  const ca = data(cluster, 'certificate-authority-data', 'certificate-authority');
  if (ca) target.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) target.insecureSkipTlsVerify = true;
  const sni = str(cluster, 'tls-server-name');
  if (sni) target.tlsServerName = sni;
  const cert = data(user, 'client-certificate-data', 'client-certificate');
  const key = data(user, 'client-key-data', 'client-key');
  if (cert) target.cert = cert;
  if (key) target.key = key;
  const token = str(user, 'token');
  const tokenFile = str(user, 'tokenFile');
  if (token) target.token = token;
  else if (tokenFile) target.tokenFile = isAbsolute(tokenFile) ? tokenFile : join(dir, tokenFile);
  const username = str(user, 'username');
  if (username) target.basicAuth = { username, password: str(user, 'password') ?? '' };
  if (isObj(user['exec']) || isObj(user['auth-provider'])) target.plugin = { kubeconfig: text, dir };
  const namespace = str(context, 'namespace');
  return namespace ? { target, namespace } : { target };
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

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
