/**
 * The demo (run by scripts/lab.sh, which installs and builds first): the seed article's steps with the real agent
 * and a real Kubernetes control plane, in the network lab, printing the ToR's routing table (`ip route` in its
 * namespace) after each step, as the article does.
 *
 *   node dist/test/e2e/seed/demo.js [--router bird|frr] [--keep]
 *
 * Everything it starts is a process tracked by the lab (control plane, node simulator, three agents, a kube-proxy per
 * node) or lives in the lab's namespaces (the nginx Pods), so the lab's teardown — at the end, on Ctrl-C, or later
 * with `scripts/lab-net.sh down <id>` after --keep — removes it all. Traffic takes the real data path: the ToR, a
 * node's kube-proxy, an nginx Pod in a network namespace of its own (test/lab/data-path.ts, test/lab/pods.ts).
 * It uses the same walk as the e2e suite (scenario.ts); the suite asserts, the demo prints.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { cleanupStale, createLab, GOBGP, preflight, sleep, startDataPath, type DataPath, type Lab, type RouterKind } from '../../lab/index.js';
import { CONTROL_PLANE_SCRIPT, runCommand, type ControlPlaneInfo } from '../../helpers/kube/control-plane.js';
import {
  BGP_CONFIGURATION_CLUSTER_IPS,
  BGP_CONFIGURATION_EXTERNAL_IPS,
  BGP_PEER,
  EXTERNAL_IP,
  FOREIGN_EXTERNAL_IP,
  KUBECTL_EXPOSE,
  KUBECTL_PATCH_EXTERNAL_IP,
  KUBECTL_PATCH_FOREIGN_IP,
  KUBECTL_PATCH_LOCAL,
  SEED_NGINX_DEPLOYMENT,
  SEED_NODES,
} from './article.js';
import { NGINX_WELCOME, SeedScenario, addIpv6InternalIPs, agentEntry, type KubeAccess } from './scenario.js';

const T0 = Date.now();
const elapsed = (): string => `${((Date.now() - T0) / 1000).toFixed(1)}s`;
const out = (s = ''): void => void process.stdout.write(`${s}\n`);
const progress = (s: string): void => out(`  [${elapsed()}] ${s}`);
const heading = (s: string): void => out(`\n=== ${s} ${'='.repeat(Math.max(3, 100 - s.length))}`);
const indent = (text: string, pfx = '    '): string =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => pfx + l)
    .join('\n');
const shellQuote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

interface Args {
  router: RouterKind;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { router: 'bird', keep: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === '--router') {
      const r = argv[++i];
      if (r !== 'bird' && r !== 'frr') throw new Error(`--router wants bird or frr, got ${r}`);
      a.router = r;
    } else if (x === '--keep') a.keep = true;
    else if (x === '-h' || x === '--help') {
      out('usage: scripts/lab.sh [--router bird|frr] [--keep]');
      process.exit(0);
    } else throw new Error(`unknown argument ${x} (usage: scripts/lab.sh [--router bird|frr] [--keep])`);
  }
  return a;
}

/** The control plane as a lab-tracked process; its progress lines are shown while it starts. */
async function startControlPlane(lab: Lab): Promise<{ info: ControlPlaneInfo; pid: number }> {
  const runDir = join(lab.runDir, 'k8s');
  const log = join(lab.runDir, 'control-plane.log');
  const pid = lab.spawn('control-plane', [CONTROL_PLANE_SCRIPT(), '--run-dir', runDir]);
  let shown = 0;
  const deadline = Date.now() + 45 * 60_000;
  for (;;) {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    const lines = text.split('\n');
    for (; shown < lines.length - 1; shown++) {
      const l = lines[shown]!;
      if (l.startsWith('[')) progress(l.replace(/^\[[^\]]*\]\s*/, 'control plane: '));
    }
    const m = /^SVCBGP_K8S_READY (.*)$/m.exec(text);
    if (m) return { info: JSON.parse(m[1]!) as ControlPlaneInfo, pid };
    try {
      process.kill(pid, 0);
    } catch {
      throw new Error(`the control plane exited before it was ready; see ${log}`);
    }
    if (Date.now() > deadline) throw new Error(`the control plane was not ready after 45 min; see ${log}`);
    await sleep(200);
  }
}

function kubeAccess(info: ControlPlaneInfo): KubeAccess {
  const kubectl = (args: string[], stdin?: string) => runCommand(info.kubectlPath, ['--kubeconfig', info.kubeconfig, ...args], stdin);
  return {
    kubeconfig: info.kubeconfig,
    kubectlPath: info.kubectlPath,
    kubectl,
    async kubectlOk(args, stdin) {
      const r = await kubectl(args, stdin);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
      return r.stdout;
    },
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromString(readFileSync(info.kubeconfig, 'utf8'));
      return kc;
    },
  };
}

/** The node simulator (the kubelets' stand-in) as a lab-tracked process; waits for its three Nodes. */
async function startNodeSimulator(lab: Lab, kube: KubeAccess): Promise<void> {
  const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../helpers/kube/node-sim-cli.js');
  const nodes = SEED_NODES.flatMap((n) => ['--node', `${n.name}=${n.ipv4}`]);
  const log = join(lab.runDir, 'node-sim.log');
  lab.spawn('node-sim', [process.execPath, cli, '--kubeconfig', kube.kubeconfig, ...nodes, '--lab-pods', lab.prefix]);
  const deadline = Date.now() + 120_000;
  while (!(existsSync(log) && readFileSync(log, 'utf8').includes('node-sim: running'))) {
    if (Date.now() > deadline) throw new Error(`the node simulator did not start; see ${log}`);
    await sleep(200);
  }
  await addIpv6InternalIPs(kube.kubeConfig());
  for (const l of readFileSync(log, 'utf8').trim().split('\n')) progress(l);
}

/** A real kube-proxy in every node namespace (test/lab/data-path.ts), once the Nodes have their podCIDRs. */
async function startKubeProxies(lab: Lab, kube: KubeAccess, info: ControlPlaneInfo): Promise<DataPath> {
  const core = kube.kubeConfig().makeApiClient(CoreV1Api);
  const cidrs = new Map<string, string[]>();
  for (const n of (await core.listNode()).items) cidrs.set(n.metadata!.name!, n.spec?.podCIDRs ?? []);
  return startDataPath(lab, { kubeconfig: join(info.runDir, 'kube-proxy.kubeconfig'), binDir: info.binDir, podCIDRs: (n) => cidrs.get(n) ?? [] });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const routerName = args.router === 'bird' ? 'BIRD 2' : 'FRR';
  await preflight(args.router);
  const stale = cleanupStale();
  if (stale.removed.length) progress(`removed leftovers of crashed runs: ${stale.removed.join(', ')}`);

  heading(`Building the lab: ToR (${routerName}), 3 nodes with gobgpd, an external host`);
  const lab = await createLab({ router: args.router, unknownDestinations: 'drop', onProgress: progress });
  let cpPid: number | undefined;
  let sc: SeedScenario | undefined;
  try {
    progress(`lab ${lab.id} up in ${lab.timings.totalMs} ms (run dir ${lab.runDir})`);
    heading('Starting a real Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler)');
    const cp = await startControlPlane(lab);
    cpPid = cp.pid;
    const kube = kubeAccess(cp.info);
    progress(`API server ${cp.info.server}; kubeconfig ${cp.info.kubeconfig}`);
    progress('node simulator (STAND-IN for the kubelets: registers node-1..3, runs the Pods the scheduler binds to them in namespaces of their own)');
    await startNodeSimulator(lab, kube);
    const dataPath = await startKubeProxies(lab, kube, cp.info);
    progress(`kube-proxy ${dataPath.mode} mode in every node namespace, healthy (logs ${join(lab.runDir, 'kube-proxy-node-N.log')})`);
    const core = kube.kubeConfig().makeApiClient(CoreV1Api);
    for (let i = 0; ; i++) {
      if (
        await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).then(
          () => true,
          () => false,
        )
      )
        break;
      if (i > 600) throw new Error('no default ServiceAccount after 2 min');
      await sleep(200);
    }
    sc = new SeedScenario({ lab, kube, namespace: 'default', say: progress, dataPath });
    await walk(sc, kube);
    if (args.keep) {
      lab.keep();
      heading('The lab stays up (--keep). Look around:');
      out(keepHints(lab, sc, cp.info));
    } else {
      heading('Tearing down');
      sc.stopAgents();
      if (cpPid) await stopControlPlane(cpPid);
      await lab.destroy();
      progress('lab, agents, node simulator, kube-proxies, nginx Pods and control plane removed');
    }
  } catch (err) {
    out(`\nFAILED: ${err instanceof Error ? err.message : String(err)}`);
    for (const a of sc?.agents ?? []) {
      const tail = existsSync(a.logFile) ? readFileSync(a.logFile, 'utf8').trim().split('\n').slice(-8).join('\n') : '';
      out(`--- last lines of ${a.logFile}\n${tail}`);
    }
    if (args.keep) {
      lab.keep();
      out(`\nthe lab is left up for inspection (--keep): ${lab.runDir}\nremove it with: scripts/lab-net.sh down ${lab.id}`);
    } else {
      if (cpPid) await stopControlPlane(cpPid).catch(() => undefined);
      await lab.destroy();
    }
    process.exitCode = 1;
  }
}

/** SIGTERM to the control plane's script: it stops controllers, API server and etcd in order and removes its dir. */
async function stopControlPlane(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 150; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
}

async function showTor(sc: SeedScenario): Promise<void> {
  out(`\n  tor$ ip route`);
  out(indent(await sc.torIpRoute()));
}

async function kubectlShown(sc: SeedScenario, args: string[], stdin?: string): Promise<void> {
  out(`\n  control$ kubectl ${args.map(shellQuote).join(' ')}${stdin ? ' <<EOF' : ''}`);
  if (stdin) out(`${indent(stdin)}\n    EOF`);
  const text = await sc.kubectl(args, stdin);
  if (text.trim()) out(indent(text));
}

/** The external host's curl, nginx's page cut to its title, and the node the ToR sent the request to. */
async function curlShown(sc: SeedScenario, addr: string, seconds: number): Promise<void> {
  out(`\n  external$ curl -sS -m ${seconds} http://${addr}/ | grep '<title>'`);
  const r = await sc.requestFromExternal(addr, seconds * 1000);
  const title = (r.body ?? '').split('\n').filter((l) => l.includes('<title>'));
  out(indent(r.ok ? title.join('\n') || (r.body ?? '') : (r.error ?? 'no answer')));
  if (r.ok && r.body?.includes(NGINX_WELCOME)) progress(`the ToR sent it to ${r.node ?? '?'}, whose kube-proxy passed it to an nginx Pod`);
}

function configShown(what: string, docs: string[]): void {
  out(`\n  ${what}: the agents' --config file (what the DaemonSet mounts from a ConfigMap) now holds`);
  out(indent(docs.join('---\n')));
}

async function walk(sc: SeedScenario, kube: KubeAccess): Promise<void> {
  const lab = sc.lab;
  heading('Before step 1: gobgpd runs empty in every node; the ToR has no session');
  out(indent(await lab.router.showSessions()));

  heading('Step 1: the BGPPeer (calicoctl apply in the article); one `svcbgp run` per node starts with it');
  configShown('calicoctl apply -f -', [BGP_PEER]);
  const s1 = await sc.step1();
  progress(`3 agents ready, every session Established after ${s1.sessionsMs} ms`);
  out(`\n  tor$ ${lab.options.router === 'bird' ? 'birdc show protocols' : "vtysh -c 'show bgp summary'"}`);
  out(indent(await lab.router.showSessions()));
  out(`\n  node-1$ gobgp neighbor`);
  out(indent((await lab.exec(lab.node(1).ns, GOBGP, ['neighbor'])).stdout));
  await showTor(sc);

  heading('Step 2: BGPConfiguration serviceClusterIPs 10.49.0.0/16');
  configShown('calicoctl create -f -', [BGP_PEER, BGP_CONFIGURATION_CLUSTER_IPS]);
  const s2 = await sc.step2();
  progress(`the ToR holds 10.49.0.0/16 via the three nodes (${s2.ms} ms after the file changed)`);
  await showTor(sc);

  heading('Step 3: the nginx Deployment (2 replicas), exposed');
  await kubectlShown(sc, ['apply', '-f', '-'], SEED_NGINX_DEPLOYMENT);
  await kubectlShown(sc, KUBECTL_EXPOSE);
  progress('(the article writes `kubectl expose nginx`, which kubectl rejects: it needs the resource type)');
  const s3 = await sc.nginxServing();
  await kubectlShown(sc, ['get', 'services']);
  await kubectlShown(sc, ['get', 'pods', '-o', 'wide']);
  progress(`cluster IP ${s3.clusterIP}; externalTrafficPolicy Cluster: no host route yet`);
  await showTor(sc);

  heading('Step 4: type NodePort, externalTrafficPolicy Local');
  out(`\n  control$ kubectl ${KUBECTL_PATCH_LOCAL.map(shellQuote).join(' ')}`);
  const s4 = await sc.step4();
  progress(`nginx runs on ${s4.nginxNodes.join(' and ')}: the ToR holds ${s4.clusterIP}/32 via exactly those (${s4.ms} ms after the patch)`);
  await showTor(sc);
  await sc.serveEverywhere(s4.clusterIP);
  progress("traffic: every node's kube-proxy has the Service IP; nginx (Debian's) answers in the Pods");
  await curlShown(sc, s4.clusterIP, 5);

  heading('Step 5: BGPConfiguration replaced: serviceExternalIPs 192.168.3.0/24, no cluster IPs');
  configShown('calicoctl create -f -', [BGP_PEER, BGP_CONFIGURATION_EXTERNAL_IPS]);
  const s5 = await sc.step5();
  progress(`10.49.0.0/16 and ${s4.clusterIP}/32 withdrawn, 192.168.3.0/24 via the three nodes (${s5.ms} ms after the file changed)`);
  await showTor(sc);
  progress("the cluster IP is no longer reachable from outside (the lab's ToR drops what it has no route for, as in the article)");
  await curlShown(sc, s4.clusterIP, 5);

  heading('Step 6: externalIPs ["192.168.3.180"]');
  out(`\n  control$ kubectl ${KUBECTL_PATCH_EXTERNAL_IP.map(shellQuote).join(' ')}`);
  const s6 = await sc.step6();
  out(`\n  control$ kubectl get services`);
  out(indent(s6.services));
  progress(`192.168.3.180/32 via the nginx nodes only (${s6.ms} ms after the patch)`);
  await showTor(sc);
  await sc.serveEverywhere(EXTERNAL_IP);
  await curlShown(sc, EXTERNAL_IP, 5);

  heading('Beyond the article: scale to 3, and an external IP outside 192.168.3.0/24');
  await kubectlShown(sc, ['scale', 'deployment', 'nginx', '--replicas', '3']);
  const up = await sc.waitForFollow(`${EXTERNAL_IP}/32`, (p) => p.length === 3, 'three ready nginx Pods and the /32 via their nodes');
  progress(`nginx on ${up.nodes.join(', ')}: the /32 followed in ${up.ms} ms`);
  await showTor(sc);
  out(`\n  control$ kubectl ${KUBECTL_PATCH_FOREIGN_IP.map(shellQuote).join(' ')}`);
  await sc.kubectl(KUBECTL_PATCH_FOREIGN_IP);
  await sc.until('the refusal Events', async () => {
    const t = await sc.kubectl(['get', 'events', '--field-selector', 'reason=AddressNotAdvertised', '-o', 'name']);
    return t.trim().split('\n').filter(Boolean).length >= 3 ? true : undefined;
  });
  await kubectlShown(sc, ['get', 'events', '--field-selector', 'reason=AddressNotAdvertised']);
  progress(`${FOREIGN_EXTERNAL_IP} is refused by every node (not inside serviceExternalIPs): the ToR never sees it`);
  await showTor(sc);
  const dump = join(lab.runDir, 'cluster-dump.yaml');
  writeFileSync(dump, await kube.kubectlOk(['get', 'services,endpointslices,nodes', '-A', '-o', 'yaml']));
  const node = up.nodes[0]!;
  out(`\n  $ kubectl get services,endpointslices,nodes -A -o yaml > cluster-dump.yaml`);
  out(`  $ svcbgp explain --config svcbgp-config.yaml --cluster cluster-dump.yaml --node ${node}`);
  const ex = await runCommand(process.execPath, [agentEntry(), 'explain', '--config', sc.configFile, '--cluster', dump, '--node', node]);
  out(indent(ex.stdout + ex.stderr));
  const m = await sc.agentHttp(sc.agents[0]!, '/metrics');
  out(`\n  $ curl -s http://${sc.agents[0]!.httpAddress}/metrics | grep -E '^svcbgp_(routes_advertised|refused_addresses|bgp_peer_state)' | grep -v ' 0$'`);
  out(
    indent(
      m.body
        .split('\n')
        .filter((l) => /^svcbgp_(routes_advertised|refused_addresses|bgp_peer_state)/.test(l) && !/ 0$/.test(l))
        .join('\n'),
    ),
  );
  const agent = sc.agents.find((a) => a.node.name === node) ?? sc.agents[0]!;
  out(`\n  ${agent.node.name}$ svcbgp status --agent ${agent.httpAddress} --gobgp-address ${agent.node.gobgpd.target}`);
  const st = await runCommand(process.execPath, [agentEntry(), 'status', '--agent', agent.httpAddress, '--gobgp-address', agent.node.gobgpd.target]);
  out(indent(st.stdout + st.stderr));
}

function keepHints(lab: Lab, sc: SeedScenario, info: ControlPlaneInfo): string {
  const kubectl = join(info.runDir, 'kubectl');
  const lines = [
    lab.operatorHints(),
    '',
    `Kubernetes: export KUBECONFIG=${info.kubeconfig}   (kubectl of the same release: ${kubectl})`,
    `          ${kubectl} get nodes,pods,svc,endpointslices -o wide`,
    `          ${kubectl} get events --field-selector reason=AddressNotAdvertised`,
    `          ${kubectl} scale deployment nginx --replicas 2      # then watch: ip -n ${lab.tor.ns} monitor route`,
    'agents:',
    ...sc.agents.map((a) => `          ${a.node.name}: curl -s http://${a.httpAddress}/metrics | grep ^svcbgp_   (/readyz, /healthz); log ${a.logFile}`),
    `          config file (edit it: the agents reload it within a second): ${sc.configFile}`,
    `          svcbgp status: node dist/src/cli/main.js status --agent ${sc.agents[0]?.httpAddress ?? '127.0.0.1:<port>'} --gobgp-address ${sc.agents[0]?.node.gobgpd.target ?? 'unix:///...'}`,
    `          svcbgp explain: ${kubectl} get services,endpointslices,nodes -A -o yaml > /tmp/dump.yaml && node dist/src/cli/main.js explain --config ${sc.configFile} --cluster /tmp/dump.yaml --node node-1`,
    `data path: ip netns exec ${lab.nodes[0]!.ns} nft list table ip kube-proxy     # kube-proxy's rules; conntrack -L: its NAT`,
    `          ${kubectl} get pods -o wide; ip netns list | grep ${lab.prefix}-p   # each nginx Pod's namespace`,
    `logs:     control plane ${join(lab.runDir, 'control-plane.log')} (components: ${join(info.runDir, 'logs')}), node simulator ${join(lab.runDir, 'node-sim.log')}, kube-proxy ${join(lab.runDir, 'kube-proxy-node-N.log')}, nginx ${join(lab.runDir, 'pods')}`,
    `remove everything (namespaces, routers, gobgpd, agents, node simulator, kube-proxy, Pods, control plane): scripts/lab-net.sh down ${lab.id}`,
  ];
  return lines.join('\n');
}

await main();
