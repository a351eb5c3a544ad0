import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** deploy/40-daemonset.yaml, from this compiled file (dist/test/helpers/agent-node-flags.js). */
export const DAEMONSET_FILE = fileURLToPath(new URL('../../../deploy/40-daemonset.yaml', import.meta.url));

export interface Container {
  name: string;
  command: string[];
}

let containers: Container[] | undefined;

/** The containers of deploy/40-daemonset.yaml's Pod template (read once per process). */
export function daemonSetContainers(): Container[] {
  containers ??= (parseYaml(readFileSync(DAEMONSET_FILE, 'utf8')) as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec
    .containers;
  return containers;
}

/** Where the script is in a `node` command line: the first argument after `node` that is not one of its flags. */
export function nodeScriptIndex(command: readonly string[]): number {
  return command.findIndex((a, i) => i > 0 && !a.startsWith('-'));
}

/**
 * The Node.js flags the DaemonSet runs the agent with (between `node` and the script): every test and benchmark
 * that starts `svcbgp run` as a process passes them, so they measure the process the DaemonSet starts.
 */
export function agentNodeFlags(): string[] {
  const agent = daemonSetContainers().find((c) => c.name === 'agent');
  if (!agent) throw new Error(`${DAEMONSET_FILE}: no container named agent`);
  return agent.command.slice(1, nodeScriptIndex(agent.command));
}
