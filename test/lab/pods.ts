/**
 * The lab's Pod runtime: what a container runtime and a CNI plugin do on a node, for the Pods the node simulator
 * (test/helpers/kube/node-sim.ts, the kubelet stand-in) runs on the lab's nodes. Give it to the simulator as its
 * `runtime`:
 *
 *   const pods = new LabPods(lab);
 *   const sim = new NodeSimulator(kc, { nodes, runtime: pods });
 *
 * Per Pod:
 *   - a network namespace `<lab prefix>-p<n>` (tracked by the lab: teardown and cleanupStale remove it);
 *   - a veth pair: `eth0` in the Pod, `vethp<n>` in its node's namespace, wired the way Calico wires a workload:
 *     the Pod holds its pod IP(s) as /32 (/128) on eth0 with `default via 169.254.1.1 dev eth0 onlink` (IPv6:
 *     via the host end's link-local address), the host end has the MAC ee:ee:ee:ee:ee:ee and proxy ARP on, so it
 *     answers for the gateway, and the node routes each pod IP to the veth (`10.48.1.2 dev vethp3 scope link`);
 *   - the pod IPs are the ones the simulator assigned and reports in status.podIPs (from the Node's podCIDRs, which
 *     the real node-IPAM controller assigned);
 *   - its containers: an `nginx` image runs **Debian's nginx** (/usr/sbin/nginx, `daemon off`, listening on port 80,
 *     serving the package's "Welcome to nginx!" page) inside the Pod's namespace, with a config, pid file, logs and
 *     temp dirs of its own in `<run>/pods/<namespace>_<pod>_<uid>/`. start() resolves once nginx answers on the pod IP
 *     from the node (the kubelet then reports the Pod Ready). Another image gets the network and no process (there
 *     are no images here); a hostNetwork Pod gets nothing (it would share the node's namespace).
 *
 * What differs from a real node: no container runtime (no image, no mount/PID/UTS namespaces, no cgroups: nginx
 * runs as a plain process that only has a network namespace of its own; its workers run as the package's default
 * user); the CNI plugin's IPAM is the simulator's (first free address of the Node's podCIDR).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PodRuntime, PodSandbox } from '../helpers/kube/node-sim.js';
import { isAlive, run, signal, sleep, spawnDaemon, waitFor } from './exec.js';
import { httpGetFrom, urlFor } from './http.js';
import { ipBatch, makeNames, sysctl } from './topology.js';

/** Debian's nginx (package nginx-light or nginx) and the page it ships. */
export const NGINX = '/usr/sbin/nginx';
export const NGINX_HTML = '/usr/share/nginx/html';

/** What Calico uses, and so the lab: the Pod's IPv4 gateway (answered by proxy ARP) and the host end's MAC. */
export const POD_GATEWAY_V4 = '169.254.1.1';
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
/** The host end's IPv6 link-local address, from its MAC (EUI-64): the Pod's IPv6 gateway. */
export const POD_GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

/** A lab node as the Pods see it: its Kubernetes name and its network namespace. */
export interface PodNode {
  name: string;
  ns: string;
}

/**
 * What LabPods needs of a lab: a Lab (lab.ts) in the process that built it, or labPodHost() in another process (the
 * demo's node simulator runs in a process of its own).
 */
export interface PodHost {
  /** The lab's prefix "sb1a2b": Pod namespaces are "<prefix>-p<n>". */
  readonly prefix: string;
  readonly runDir: string;
  node(name: string): PodNode;
  /** Namespaces made after bring-up, for teardown (which also finds "<prefix>-p<n>" by name). */
  trackNamespace(ns: string): void;
  untrackNamespace(ns: string): void;
}

/**
 * A PodHost for a lab built by another process, from its prefix and node count: node-N lives in "<prefix>-nN".
 * The lab's teardown finds the Pod namespaces by name, so tracking them here is not needed.
 */
export function labPodHost(prefix: string, nodes: number): PodHost {
  const names = makeNames(nodes, prefix.replace(/^sb/, ''));
  return {
    prefix: names.prefix,
    runDir: names.runDir,
    node(name) {
      const i = Number(/^node-(\d+)$/.exec(name)?.[1] ?? 0);
      const ns = names.nodeNs[i - 1];
      if (!ns) throw new Error(`no such lab node: ${name}`);
      return { name, ns };
    },
    trackNamespace: () => undefined,
    untrackNamespace: () => undefined,
  };
}

/** One running Pod. */
export interface LabPod {
  /** "<namespace>/<name>" */
  key: string;
  uid: string;
  node: PodNode;
  /** Its network namespace. */
  ns: string;
  /** The host end of its veth, in the node's namespace. */
  hostIf: string;
  ips: readonly string[];
  /** <run>/pods/<namespace>_<name>_<uid prefix>: nginx's config, pid file and logs. */
  dir: string;
  /** nginx master processes (one per nginx container). */
  pids: number[];
}

/** An image the lab runs with Debian's nginx: nginx, nginx:1.27, docker.io/library/nginx@sha256:... */
export function isNginxImage(image: string): boolean {
  const last = image.split('/').pop() ?? '';
  return /^nginx([:@].*)?$/.test(last);
}

/** nginx.conf for one Pod: every path in its own dir, listening on `port` on every address of the Pod. */
export function nginxConfig(dir: string, port: number): string {
  return [
    '# written by the lab (test/lab/pods.ts): Debian nginx in a Pod network namespace',
    'daemon off;',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log;`,
    'events { worker_connections 256; }',
    'http {',
    '  include /etc/nginx/mime.types;',
    `  access_log ${dir}/access.log;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
    '  server {',
    `    listen ${port} default_server;`,
    `    listen [::]:${port} default_server;`,
    `    root ${NGINX_HTML};`,
    '    index index.html;',
    '  }',
    '}',
    '',
  ].join('\n');
}

export class LabPods implements PodRuntime {
  private seq = 0;
  private readonly pods = new Map<string, LabPod>();

  constructor(private readonly lab: PodHost) {}

  /** The running Pods. */
  list(): LabPod[] {
    return [...this.pods.values()];
  }

  /** A running Pod by namespace and name. */
  get(namespace: string, name: string): LabPod | undefined {
    return this.list().find((p) => p.key === `${namespace}/${name}`);
  }

  /** The client addresses of the requests a Pod's nginx served (its access log, oldest first). */
  clients(p: LabPod): string[] {
    try {
      return readFileSync(join(p.dir, 'access.log'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => l.split(' ')[0]!);
    } catch {
      return [];
    }
  }

  async start(pod: PodSandbox): Promise<void> {
    if (pod.hostNetwork || this.pods.has(pod.uid)) return;
    const node = this.lab.node(pod.node);
    this.seq += 1;
    const p: LabPod = {
      key: `${pod.namespace}/${pod.name}`,
      uid: pod.uid,
      node,
      ns: `${this.lab.prefix}-p${this.seq}`,
      hostIf: `vethp${this.seq}`,
      ips: pod.ips,
      dir: join(this.lab.runDir, 'pods', `${pod.namespace}_${pod.name}_${pod.uid.slice(0, 8)}`),
      pids: [],
    };
    this.pods.set(pod.uid, p);
    try {
      await this.network(p);
      const ports: number[] = [];
      for (const c of pod.containers) {
        if (!isNginxImage(c.image)) continue;
        ports.push(c.ports[0] ?? 80);
        p.pids.push(this.startNginx(p, ports.at(-1)!));
      }
      for (const port of ports) await this.waitServing(p, port);
    } catch (e) {
      await this.teardown(p);
      throw e;
    }
  }

  async stop(pod: PodSandbox): Promise<void> {
    const p = this.pods.get(pod.uid);
    if (p) await this.teardown(p);
  }

  /** The CNI ADD: namespace, veth, addresses, routes. */
  private async network(p: LabPod): Promise<void> {
    this.lab.trackNamespace(p.ns); // before it exists: a crash right after still finds it
    await run('ip', ['netns', 'add', p.ns]);
    const v4 = p.ips.filter((ip) => !ip.includes(':'));
    const v6 = p.ips.filter((ip) => ip.includes(':'));
    await ipBatch(p.node.ns, [`link add ${p.hostIf} address ${HOST_VETH_MAC} type veth peer name eth0 netns ${p.ns}`, `link set ${p.hostIf} up`]);
    // proxy ARP: the host end answers for 169.254.1.1 (and any address) on the Pod's link, as Calico's veths do
    await sysctl(p.node.ns, [`net.ipv4.conf.${p.hostIf}.proxy_arp=1`, `net.ipv4.neigh.${p.hostIf}.proxy_delay=0`]);
    await ipBatch(p.ns, [
      'link set lo up',
      ...v4.map((ip) => `addr add ${ip}/32 dev eth0`),
      ...v6.map((ip) => `addr add ${ip}/128 dev eth0 nodad`),
      'link set eth0 up',
      ...(v4.length > 0 ? [`route add ${POD_GATEWAY_V4} dev eth0 scope link`, `route add default via ${POD_GATEWAY_V4} dev eth0`] : []),
      ...(v6.length > 0 ? [`route add ::/0 via ${POD_GATEWAY_V6} dev eth0`] : []),
    ]);
    // the node's routes to the Pod; replace: an address freed by a Pod that is still going away may come back
    await ipBatch(p.node.ns, [
      ...v4.map((ip) => `route replace ${ip}/32 dev ${p.hostIf} scope link`),
      ...v6.map((ip) => `route replace ${ip}/128 dev ${p.hostIf}`),
    ]);
  }

  private startNginx(p: LabPod, port: number): number {
    mkdirSync(p.dir, { recursive: true });
    const conf = join(p.dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig(p.dir, port));
    // -e: the error log before the config is read; -p: the prefix for any relative path
    return spawnDaemon(['ip', 'netns', 'exec', p.ns, NGINX, '-p', p.dir, '-e', join(p.dir, 'error.log'), '-c', conf], join(p.dir, 'stdout.log'));
  }

  /** The kubelet reports the Pod Ready once nginx answers on the pod IP, asked from the node (through the veth). */
  private async waitServing(p: LabPod, port: number): Promise<void> {
    const ip = p.ips[0]!;
    await waitFor(
      `nginx of ${p.key} answering on ${ip}:${port} from ${p.node.name}`,
      async () => {
        if (!p.pids.every(isAlive)) throw new Error(`nginx of ${p.key} exited: ${this.errorLog(p)}`);
        const r = await httpGetFrom(p.node.ns, urlFor(ip, port), 1000);
        return r.ok && r.status === 200 ? true : undefined;
      },
      15_000,
      100,
      () => this.errorLog(p),
    );
  }

  private errorLog(p: LabPod): string {
    try {
      return readFileSync(join(p.dir, 'error.log'), 'utf8').trim().split('\n').slice(-5).join(' | ');
    } catch {
      return '(no error log)';
    }
  }

  /** Containers stopped (SIGTERM as the kubelet sends it, SIGKILL after 5 s), then the CNI DEL. Idempotent. */
  private async teardown(p: LabPod): Promise<void> {
    for (const pid of p.pids) signal(pid, 'SIGTERM');
    for (const t0 = Date.now(); p.pids.some(isAlive) && Date.now() - t0 < 5000; ) await sleep(50);
    for (const pid of p.pids) if (isAlive(pid)) signal(pid, 'SIGKILL');
    // deleting the namespace deletes the veth pair, and with it the node's routes through it
    await run('ip', ['netns', 'del', p.ns], { allowFail: true });
    this.lab.untrackNamespace(p.ns);
    this.pods.delete(p.uid); // its dir (config, logs) stays until the lab's teardown
  }
}
