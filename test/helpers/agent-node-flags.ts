import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** deploy/40-daemonset.yaml, from this compiled file (dist/test/helpers/agent-node-flags.js). */
export const DAEMONSET_FILE = fileURLToPath(new URL('../../../deploy/40-daemonset.yaml', import.meta.url));

interface DaemonSet {
  spec: { template: { spec: { containers: { name: string; command: string[] }[] } } };
}

/** The agent container's command in the DaemonSet: [node, ...flags, script, ...args]. */
export function agentCommand(file = DAEMONSET_FILE): string[] {
  const ds = parseYaml(readFileSync(file, 'utf8')) as DaemonSet;
  const agent = ds.spec.template.spec.containers.find((c) => c.name === 'agent');
  if (!agent) throw new Error(`${file}: no container named agent`);
  return agent.command;
}

/**
 * The Node.js flags the DaemonSet runs the agent with (between `node` and the script): every test and benchmark
 * that starts `svcbgp run` as a process passes them, so they measure the process the DaemonSet starts.
 */
export function agentNodeFlags(file = DAEMONSET_FILE): string[] {
  const cmd = agentCommand(file);
  const script = cmd.findIndex((a, i) => i > 0 && !a.startsWith('-'));
  return cmd.slice(1, script);
}
