/**
 * The node simulator from a shell, for the lab and demos (THE stand-in for kubelets: see node-sim.ts).
 *
 *   node dist/test/helpers/kube/node-sim-cli.js --kubeconfig /tmp/svcbgp-k8s.XXXX/admin.kubeconfig \
 *        --node node-1=192.168.1.10 --node node-2=192.168.1.11 --node node-3=192.168.1.12
 *
 * Registers the Nodes, plays the kubelet for the Pods bound to them until SIGINT/SIGTERM, then deletes
 * the Nodes again. Without --node: node-1/2/3 with 192.168.1.10/.11/.12.
 *
 * --lab-pods sb1a2b: also run the Pods, in the network lab sb1a2b (test/lab/pods.ts: a network namespace per Pod
 * wired to its node's namespace, Debian's nginx for an nginx image); they stop with the simulator.
 */
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { LabPods, labPodHost } from '../../lab/pods.js';
import { NodeSimulator, type SimNodeSpec } from './node-sim.js';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`node-sim: ${msg}\n`);
  process.stderr.write('usage: node-sim-cli.js --kubeconfig FILE [--node NAME=IPv4[,label=value...]]... [--keep-nodes] [--lab-pods LAB-PREFIX]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
let kubeconfig = process.env['KUBECONFIG'];
let keepNodes = false;
let labPrefix: string | undefined;
const nodes: SimNodeSpec[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--kubeconfig') kubeconfig = args[++i];
  else if (a === '--keep-nodes') keepNodes = true;
  else if (a === '--lab-pods') {
    labPrefix = args[++i];
    if (!/^sb[0-9a-f]{4}$/.test(labPrefix ?? '')) usage(`--lab-pods wants a lab prefix like sb1a2b, got "${labPrefix}"`);
  } else if (a === '--node') {
    const [nameIp, ...labels] = (args[++i] ?? '').split(',');
    const m = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)=(\d+\.\d+\.\d+\.\d+)$/.exec(nameIp ?? '');
    if (!m) usage(`--node wants NAME=IPv4, got "${nameIp}"`);
    const spec: SimNodeSpec = { name: m[1]!, internalIP: m[3]! };
    if (labels.length) spec.labels = Object.fromEntries(labels.map((l) => l.split('=') as [string, string]));
    nodes.push(spec);
  } else usage(`unknown argument ${a}`);
}
if (!kubeconfig) usage('--kubeconfig (or $KUBECONFIG) is required');

const kc = new KubeConfig();
kc.loadFromString(readFileSync(kubeconfig, 'utf8'));
const runtime = labPrefix ? { runtime: new LabPods(labPodHost(labPrefix, nodes.length || 3)) } : {};
const sim = new NodeSimulator(kc, { ...(nodes.length ? { nodes } : {}), deleteNodesOnStop: !keepNodes, ...runtime });
await sim.start();
for (const n of sim.nodes) {
  process.stdout.write(`node-sim: ${n.name} InternalIP ${n.internalIP} podCIDR ${sim.podCIDR(n.name)} (simulated kubelet)\n`);
}
if (labPrefix) process.stdout.write(`node-sim: runs the Pods in lab ${labPrefix} (network namespaces ${labPrefix}-p<n>, Debian's nginx)\n`);
process.stdout.write('node-sim: running; Ctrl-C stops and removes the Nodes\n');
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await sim.stop().catch((e: unknown) => process.stderr.write(`node-sim: stop: ${String(e)}\n`));
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => {
  for (const e of sim.errors.splice(0)) process.stderr.write(`node-sim: ${String(e)}\n`);
}, 5000);
