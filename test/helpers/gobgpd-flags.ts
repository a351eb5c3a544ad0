/**
 * gobgpd's flags as deploy/40-daemonset.yaml starts it: the one list the test helpers and the lab start every gobgpd
 * version with, so that the gobgpd they test is the one the DaemonSet runs (what it listens on above all: on the host
 * network, a port gobgpd opens is a port on every node).
 */
import { DAEMONSET_FILE, daemonSetContainers } from './agent-node-flags.js';
import type { GobgpdVersion } from './gobgpd-version.js';

/** The arguments after `gobgpd` in the DaemonSet's gobgpd container (after dumb-init's). */
export function daemonSetGobgpdFlags(): string[] {
  const container = daemonSetContainers().find((c) => c.name === 'gobgpd');
  if (!container) throw new Error(`${DAEMONSET_FILE}: no container named gobgpd`);
  const i = container.command.indexOf('gobgpd');
  if (i < 0) throw new Error(`${DAEMONSET_FILE}: the gobgpd container's command does not run gobgpd`);
  return container.command.slice(i + 1);
}

/**
 * Flags some supported versions do not know (gobgpd exits on an unknown flag), and what each one does without it.
 * --metrics-path= turns off the metrics server of gobgpd >= 3.14; before 3.14 there is no such server, and
 * --pprof-disable alone leaves no HTTP listener.
 */
const NOT_EVERYWHERE: { flag: string; known: (v: GobgpdVersion) => boolean }[] = [{ flag: '--metrics-path', known: (v) => v.metricsServer }];

const flagName = (arg: string): string => arg.split('=', 1)[0]!;
/** gobgpd's flags that take a value (`--flag value` or `--flag=value`; `gobgpd --help`). */
const TAKES_VALUE = new Set(['--api-hosts', '--log-level', '-l', '--pprof-host', '--metrics-path', '--config-file', '-f', '--config-type', '-t', '--cpus']);

export interface GobgpdFlagValues {
  /** The value of --api-hosts (the DaemonSet's /run/gobgp socket is the Pod's). */
  apiHosts: string;
  /** The value of --log-level; default the DaemonSet's. */
  logLevel?: string;
  /** Flags to leave out (by name, e.g. '--pprof-disable'): a control that shows what a flag prevents. */
  without?: string[];
}

/**
 * The DaemonSet's gobgpd flags for `version`: the values of --api-hosts and --log-level replaced with this process's,
 * and the flags `version` does not know left out (see NOT_EVERYWHERE).
 */
export function gobgpdFlags(version: GobgpdVersion, values: GobgpdFlagValues): string[] {
  const replace: Record<string, string | undefined> = { '--api-hosts': values.apiHosts, '--log-level': values.logLevel };
  const drop = new Set([...NOT_EVERYWHERE.filter((f) => !f.known(version)).map((f) => f.flag), ...(values.without ?? [])]);
  const flags = daemonSetGobgpdFlags();
  if (!flags.some((a) => flagName(a) === '--api-hosts')) throw new Error(`${DAEMONSET_FILE}: gobgpd has no --api-hosts`);
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const arg = flags[i]!;
    const name = flagName(arg);
    const separate = TAKES_VALUE.has(name) && !arg.includes('='); // `--api-hosts unix:///...`
    const given = separate ? [arg, flags[++i]!] : [arg];
    if (drop.has(name)) continue;
    const value = replace[name];
    if (value === undefined) out.push(...given);
    else out.push(...(separate ? [arg, value] : [`${name}=${value}`]));
  }
  return out;
}
