import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { errorText } from '../text/error.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Where the API server is and how to authenticate to it: what the agent's own client (src/kube/client.ts) needs,
 * read from a kubeconfig's current context or from the Pod's ServiceAccount.
 *
 * svcbgp reads kubeconfigs itself rather than through @kubernetes/client-node's KubeConfig: that class's module
 * loads client-node's ~900 generated API models, about 80 MiB of RSS and 0.5-0.7 s of start-up in a process whose
 * whole budget at 10,000 Services is 150 MiB (docs/bench.md). The ServiceAccount, client certificates and
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
 * else $KUBECONFIG (its files merged, as kubectl does) / ~/.kube/config.
 */
export function loadKubeConfig(file: string | undefined): LoadedKubeConfig {
  if (file) {
    try {
      return { ...kubeConfigFromFile(file), source: `file ${file}` };
    } catch (err) {
      throw new Error(`cannot load --kubeconfig ${file}: ${errorText(err)}`);
    }
  }
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync(`${SA_DIR}/token`)) {
    return { target: inClusterTarget(), source: 'in-cluster service account' };
  }
  const env = (process.env.KUBECONFIG ?? '').split(':').filter((f) => f !== '');
  const defaultPath = join(homedir(), '.kube', 'config');
  const paths = env.length > 0 ? env : [defaultPath];
  if (env.length === 0 && !existsSync(defaultPath)) {
    throw new Error('no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, or run in a Pod with a ServiceAccount');
  }
  try {
    return { ...kubeConfigFromFiles(paths), source: env.length > 0 ? `KUBECONFIG=${process.env.KUBECONFIG}` : 'default kubeconfig' };
  } catch (err) {
    throw new Error(`cannot load the kubeconfig from ${env.length > 0 ? `KUBECONFIG=${process.env.KUBECONFIG}` : '~/.kube/config'}: ${errorText(err)}`);
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

/**
 * Several kubeconfig files merged as kubectl merges $KUBECONFIG: files that do not exist are skipped, the first
 * file to set current-context or to name a context, cluster or user wins, and each entry's relative paths are
 * relative to its own file.
 */
export function kubeConfigFromFiles(paths: readonly string[]): Omit<LoadedKubeConfig, 'source'> {
  const files = paths.filter((p) => existsSync(p));
  const [only, ...more] = files;
  if (only === undefined) throw new Error(`none of ${paths.join(', ')} exists`);
  if (more.length === 0) return kubeConfigFromFile(only);
  return fromDocs(files.map((f) => ({ text: readFileSync(f, 'utf8'), dir: dirname(resolve(f)), name: f })));
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

interface Source {
  text: string;
  dir: string;
  /** For messages (a file name), when there are several. */
  name?: string;
}

interface Parsed {
  src: Source;
  doc: Obj;
}

/** The named entry of a kubeconfig list (clusters, users, contexts) in the first document naming it, and its file. */
function entry(docs: readonly Parsed[], list: string, kind: string, name: string): { body: Obj; src: Source } {
  for (const p of docs) {
    const items = p.doc[list];
    const found = Array.isArray(items) ? items.find((i) => isObj(i) && i['name'] === name) : undefined;
    if (!isObj(found)) continue;
    const body = found[kind];
    return { body: isObj(body) ? body : {}, src: p.src };
  }
  throw new Error(`no ${kind} named "${name}" in ${list}`);
}

function str(o: Obj, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A kubeconfig's current context, as a KubeTarget. `dir` is where relative file paths are resolved. */
export function kubeConfigFromText(text: string, dir: string): Omit<LoadedKubeConfig, 'source'> {
  return fromDocs([{ text, dir }]);
}

function fromDocs(sources: readonly Source[]): Omit<LoadedKubeConfig, 'source'> {
  const docs: Parsed[] = sources.map((src) => {
    const doc: unknown = parseYaml(src.text);
    if (!isObj(doc)) throw new Error(`${src.name ? `${src.name}: ` : ''}not a kubeconfig (no mapping at the top)`);
    return { src, doc };
  });
  const contextName = docs.map((p) => str(p.doc, 'current-context')).find((c) => c !== undefined);
  if (!contextName) throw new Error('no current-context');
  const [firstDoc] = docs;
  if (firstDoc === undefined) throw new Error('kubeconfig: a current-context came from no document');
  const context = entry(docs, 'contexts', 'context', contextName).body;
  const clusterName = str(context, 'cluster');
  if (!clusterName) throw new Error(`context "${contextName}" names no cluster`);
  const { body: cluster, src: clusterSrc } = entry(docs, 'clusters', 'cluster', clusterName);
  const userName = str(context, 'user');
  const { body: user, src: userSrc } = userName ? entry(docs, 'users', 'user', userName) : { body: {}, src: firstDoc.src };
  const server = str(cluster, 'server');
  if (!server) throw new Error(`cluster "${clusterName}" has no server`);
  if (str(cluster, 'proxy-url')) {
    // Refused rather than ignored: a direct connection that the network drops would only retry, never say why.
    throw new Error(`cluster "${clusterName}" sets proxy-url, which svcbgp does not support: give a kubeconfig that reaches the API server directly`);
  }
  const data = (o: Obj, dataKey: string, fileKey: string, dir: string): Buffer | undefined => {
    const d = str(o, dataKey);
    if (d) return Buffer.from(d, 'base64');
    const f = str(o, fileKey);
    return f ? readFileSync(isAbsolute(f) ? f : join(dir, f)) : undefined;
  };
  const dir = userSrc.dir;
  const target: KubeTarget = { server: server.replace(/\/+$/, '') };
  const ca = data(cluster, 'certificate-authority-data', 'certificate-authority', clusterSrc.dir);
  if (ca) target.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) target.insecureSkipTlsVerify = true;
  const sni = str(cluster, 'tls-server-name');
  if (sni) target.tlsServerName = sni;
  const cert = data(user, 'client-certificate-data', 'client-certificate', dir);
  const key = data(user, 'client-key-data', 'client-key', dir);
  if (cert) target.cert = cert;
  if (key) target.key = key;
  const token = str(user, 'token');
  const tokenFile = str(user, 'tokenFile');
  if (token) target.token = token;
  else if (tokenFile) target.tokenFile = isAbsolute(tokenFile) ? tokenFile : join(dir, tokenFile);
  const username = str(user, 'username');
  if (username) target.basicAuth = { username, password: str(user, 'password') ?? '' };
  if (isObj(user['exec']) || isObj(user['auth-provider'])) {
    // client-node reads one kubeconfig: the merged one, with the context, cluster and user in use.
    const one =
      docs.length === 1
        ? userSrc.text
        : stringifyYaml({
            apiVersion: 'v1',
            kind: 'Config',
            'current-context': contextName,
            contexts: [{ name: contextName, context }],
            clusters: [{ name: clusterName, cluster: { ...cluster, ...absolutePath(cluster, 'certificate-authority', clusterSrc.dir) } }],
            users: [{ name: userName, user }],
          });
    target.plugin = { kubeconfig: one, dir };
  }
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

function absolutePath(o: Obj, key: string, dir: string): Obj {
  const p = str(o, key);
  return p && !isAbsolute(p) ? { [key]: join(dir, p) } : {};
}
