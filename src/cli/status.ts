import { Option, type Command } from 'commander';
import { isOwned } from '../model/owner-marker.js';
import type { AgentStatus } from '../agent/status-report.js';
import { AGENT_STATUS_KIND } from '../agent/status-report.js';
import type { GlobalConfig, GobgpClient, Neighbor, RibPath } from '../gobgp/index.js';
import type { Family, LinkBandwidth } from '../model/route.js';
import { isAttributeRefusal } from '../model/path.js';
import { describeLinkBandwidth } from '../routes/weights.js';
import { escapeControls as safe, safeJson } from '../text/escape.js';
import { errorText } from '../text/error.js';

/**
 * `svcbgp status`: what this node's svcbgp and gobgpd are doing, read from the two of them and never from the
 * Kubernetes API (so it works during an API-server outage): gobgpd's global settings, peers with session and
 * graceful-restart state, the paths svcbgp owns in gobgpd with the reason each exists (from the agent's /status),
 * refused and withheld addresses, the last pass and the last error. Either source may be down: what the other
 * says is still shown, with the error.
 *
 * Inside the Pod: `kubectl exec -n svcbgp-system ds/svcbgp -c agent -- svcbgp status` (the agent container has
 * GOBGP_ADDRESS and SVCBGP_HTTP_ADDRESS set). Exit code: 0 when both answered and the agent is ready, 1 otherwise.
 */

export interface PeerView {
  address: string;
  asn: number;
  state: string;
  adminDown: boolean;
  /** Seconds since the session came up, when established. */
  uptimeSeconds?: number;
  flaps: number;
  owner: 'svcbgp' | 'operator';
  gracefulRestart: { enabled: boolean; restartTime: number; localRestarting: boolean };
}

export interface PathView {
  prefix: string;
  family: Family;
  nextHop: string;
  communities: readonly string[];
  largeCommunities: readonly string[];
  localPref?: number;
  linkBandwidth?: LinkBandwidth;
  ageSeconds?: number;
  /** Why svcbgp advertises it (from the agent); empty when the agent does not want it (left over, or agent down). */
  reasons: string[];
}

export interface StatusReport {
  agent: { address: string; status?: AgentStatus; error?: string };
  gobgpd: {
    address: string;
    api?: string;
    error?: string;
    /** null: gobgpd answers but BGP has not been started (AS 0). */
    global?: GlobalConfig | null;
    peers?: PeerView[];
    /** Locally originated paths that carry svcbgp's ownership marker. */
    owned?: PathView[];
    /** Locally originated paths without the marker (an operator's `gobgp global rib add`): never touched. */
    otherLocal?: number;
  };
}

/** Accepts what --http-address accepts (":9479" means this host) and returns host:port to connect to. */
export function agentTarget(address: string): string {
  return address.startsWith(':') ? `127.0.0.1${address}` : address.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

export async function readAgentStatus(address: string, timeoutMs: number): Promise<AgentStatus> {
  const res = await fetch(`http://${agentTarget(address)}/status`, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) throw new Error(`GET /status answered ${res.status}`);
  const doc = (await res.json()) as AgentStatus;
  if (doc.kind !== AGENT_STATUS_KIND) throw new Error(`GET /status: not an svcbgp agent status document (kind ${JSON.stringify(doc.kind)})`);
  return doc;
}

export async function readGobgpd(client: GobgpClient, now: Date): Promise<Omit<StatusReport['gobgpd'], 'address'>> {
  const global = await client.getGlobal();
  if (!global) return { api: client.apiVersion, global: null, peers: [], owned: [], otherLocal: 0 };
  const peers = (await client.listPeers()).map((p) => peerView(p, now));
  const paths = [...(await client.listPaths('ipv4-unicast')), ...(await client.listPaths('ipv6-unicast'))].filter((p) => p.local);
  const owned = paths.filter((p) => isOwned(p.route));
  return { api: client.apiVersion, global, peers, owned: owned.map((p) => pathView(p, now)), otherLocal: paths.length - owned.length };
}

function peerView(p: Neighbor, now: Date): PeerView {
  const v: PeerView = {
    address: p.peer.address,
    asn: p.peer.asn,
    state: p.sessionState,
    adminDown: p.adminDown,
    flaps: p.flaps,
    owner: p.ours ? 'svcbgp' : 'operator',
    gracefulRestart: {
      enabled: p.peer.gracefulRestart.enabled,
      restartTime: p.peer.gracefulRestart.restartTime,
      localRestarting: p.localRestarting,
    },
  };
  if (p.sessionState === 'established' && p.uptime) v.uptimeSeconds = Math.max(0, Math.round((now.getTime() - p.uptime.getTime()) / 1000));
  return v;
}

function pathView(p: RibPath, now: Date): PathView {
  const v: PathView = {
    prefix: p.route.prefix,
    family: p.route.family,
    nextHop: p.route.nextHop,
    communities: p.route.communities,
    largeCommunities: p.route.largeCommunities,
    reasons: [],
  };
  if (p.route.localPref !== undefined) v.localPref = p.route.localPref;
  if (p.route.linkBandwidth !== undefined) v.linkBandwidth = p.route.linkBandwidth;
  if (p.age) v.ageSeconds = Math.max(0, Math.round((now.getTime() - p.age.getTime()) / 1000));
  return v;
}

/** Attach the agent's reasons to gobgpd's owned paths (by prefix and family). Pure. */
export function joinReasons(report: StatusReport): StatusReport {
  const desired = new Map((report.agent.status?.desired ?? []).map((d) => [`${d.family}|${d.prefix}`, d]));
  const owned = report.gobgpd.owned?.map((p) => ({ ...p, reasons: desired.get(`${p.family}|${p.prefix}`)?.reasons ?? [] }));
  return owned ? { ...report, gobgpd: { ...report.gobgpd, owned } } : report;
}

export async function gatherStatus(opts: { agent: string; gobgpAddress: string; timeoutMs: number }, now = new Date()): Promise<StatusReport> {
  const report: StatusReport = { agent: { address: opts.agent }, gobgpd: { address: opts.gobgpAddress } };
  const agentPart = readAgentStatus(opts.agent, opts.timeoutMs).then(
    (status) => (report.agent.status = status),
    (err: unknown) => (report.agent.error = errorText(err, { withCause: true })),
  );
  let client: GobgpClient | undefined;
  const gobgpPart = (async () => {
    try {
      // Loaded here: the gRPC stack is not needed by `svcbgp --help` or `explain` (main.ts imports this module).
      const { connectGobgp } = await import('../gobgp/index.js');
      client = connectGobgp(opts.gobgpAddress, { deadlineMs: opts.timeoutMs });
      Object.assign(report.gobgpd, await readGobgpd(client, now));
    } catch (err) {
      report.gobgpd.error = errorText(err, { withCause: true });
    }
  })();
  await Promise.all([agentPart, gobgpPart]);
  client?.close();
  return joinReasons(report);
}

/** Why an owned path no agent reason explains is still there. */
function unwantedText(a: AgentStatus | undefined): string {
  if (!a) return '(agent unreachable)';
  if (a.leaving && !a.leaving.withdrawn) return `node leaving: kept with GRACEFUL_SHUTDOWN until ${a.leaving.until}, then withdrawn`;
  if (!a.fresh) return 'kept: the cluster view is not good enough to withdraw';
  return 'not wanted any more (withdrawn on the next pass)';
}

/** The agent's conflict (a JSON list of {field, have, want}) as one line; anything else as it came. */
function conflictText(json: string): string {
  try {
    const diffs = JSON.parse(json) as unknown;
    if (Array.isArray(diffs)) {
      const parts = diffs.map(
        (d: { field?: unknown; have?: unknown; want?: unknown }) => `${String(d.field)}: gobgpd runs ${String(d.have)}, configured ${String(d.want)}`,
      );
      if (parts.length > 0) return safe(parts.join('; '));
    }
  } catch {
    // not JSON: print it as it came
  }
  return safe(json);
}

// --- text ---------------------------------------------------------------------------------------------------

function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const hms = `${String(h % 24).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return h >= 24 ? `${Math.floor(h / 24)}d ${hms}` : hms;
}

function table(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  return rows.map(
    (r) =>
      indent +
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
  );
}

function attrs(p: { communities: readonly string[]; largeCommunities: readonly string[]; localPref?: number; linkBandwidth?: LinkBandwidth }): string {
  const parts = [...p.communities, ...p.largeCommunities];
  if (p.localPref !== undefined) parts.push(`local-pref ${p.localPref}`);
  if (p.linkBandwidth !== undefined) parts.push(describeLinkBandwidth(p.linkBandwidth));
  return parts.join(' ') || '-';
}

/** The human-readable report. Pure: the same report gives the same text. */
export function formatStatus(r: StatusReport): string {
  const out: string[] = [];
  const a = r.agent.status;
  const g = r.gobgpd;
  out.push(
    `svcbgp status: node ${safe(a?.node ?? '?')}, agent ${safe(r.agent.address)}${a ? ` (svcbgp ${safe(a.version)})` : ''}, gobgpd ${safe(g.address)}${g.api ? ` (API ${g.api})` : ''}`,
  );
  out.push('');

  out.push('gobgpd:');
  if (g.error) out.push(`  unreachable: ${safe(g.error)}`);
  else if (g.global === null) out.push('  BGP not started (AS 0): the agent has not configured this gobgpd yet (see the agent below)');
  else if (g.global) out.push(`  AS ${g.global.asn}, router-id ${g.global.routerId}, listen port ${g.global.listenPort}`);

  out.push('');
  out.push('agent:');
  if (r.agent.error) out.push(`  unreachable: ${safe(r.agent.error)}`);
  if (a) {
    const failed = Object.entries(a.checks)
      .filter(([, ok]) => !ok)
      .map(([k]) => k);
    out.push(`  ${a.ready ? 'ready' : `NOT ready (failing: ${failed.join(', ')})`}; up since ${a.startedAt}`);
    out.push(
      `  configuration: ${a.config.state === 'valid' ? 'valid' : a.config.state === 'last-good' ? 'INVALID, the last good one is in force' : 'INVALID, and none was valid since the agent started'}`,
    );
    for (const e of a.config.errors) out.push(`    error: ${safe(e)}`);
    if (a.config.quarantined) out.push(`    quarantined: ${a.config.quarantined.map(safe).join(', ')}`);
    if (a.hold) out.push(`  holding: gobgpd is left as it is (${safe(a.hold)})`);
    if (a.leaving) {
      out.push(
        a.leaving.withdrawn
          ? `  node LEFT (${safe(a.leaving.why)}): every path withdrawn after the drain`
          : `  node LEAVING (${safe(a.leaving.why)}): paths carry GRACEFUL_SHUTDOWN 65535:0 and LOCAL_PREF 0 until ${a.leaving.until}, then are withdrawn`,
      );
    }
    if (a.globalConflict) out.push(`  global-settings conflict: ${conflictText(a.globalConflict)}; left as gobgpd runs them, paths and peers still reconciled`);
    if (!a.fresh) {
      out.push(
        a.desired.length > 0 || (g.owned?.length ?? 0) > 0
          ? '  cluster view not synced or API server unreachable: advertising the last good view, no withdrawals'
          : '  cluster view not synced yet: nothing computed, nothing withdrawn',
      );
    }
    const p = a.lastPass;
    if (p)
      out.push(
        `  last pass: ${p.startedAt}, ${p.result} in ${p.durationMs} ms${p.waiting ? `, ${safe(p.waiting)}` : ''}${p.error ? `: ${safe(p.error)}` : ''}`,
      );
    else out.push('  last pass: none yet');
    if (a.lastError && a.lastError !== p) out.push(`  last error: ${a.lastError.startedAt}: ${safe(a.lastError.error ?? '')}`);
  }

  if (g.peers) {
    out.push('');
    out.push(`peers (${g.peers.length}):`);
    if (g.peers.length > 0) {
      out.push(
        ...table([
          ['PEER', 'AS', 'STATE', 'UPTIME', 'GRACEFUL RESTART', 'FLAPS', 'OWNER'],
          ...g.peers.map((x) => [
            x.address,
            String(x.asn),
            x.adminDown ? `${x.state} (admin down)` : x.state,
            duration(x.uptimeSeconds),
            x.gracefulRestart.enabled ? `on, ${x.gracefulRestart.restartTime} s${x.gracefulRestart.localRestarting ? ', restarting' : ''}` : 'off',
            String(x.flaps),
            x.owner,
          ]),
        ]),
      );
    }
  }

  if (g.owned) {
    out.push('');
    out.push(
      `routes svcbgp owns in gobgpd (${g.owned.length})${g.otherLocal ? `; ${g.otherLocal} other local path(s) without svcbgp's marker, never touched` : ''}:`,
    );
    if (g.owned.length > 0) {
      out.push(
        ...table([
          ['PREFIX', 'NEXT HOP', 'AGE', 'ATTRIBUTES', 'WHY'],
          ...g.owned.map((x) => [
            x.prefix,
            x.nextHop,
            duration(x.ageSeconds),
            attrs(x),
            x.reasons.length > 0 ? x.reasons.map(safe).join('; ') : unwantedText(a),
          ]),
        ]),
      );
    }
    if (a) {
      const have = new Set(g.owned.map((x) => `${x.family}|${x.prefix}`));
      const missing = a.desired.filter((d) => !have.has(`${d.family}|${d.prefix}`));
      if (missing.length > 0) out.push(`  wanted but not in gobgpd yet: ${missing.map((d) => d.prefix).join(', ')}`);
    }
  }

  if (a) {
    out.push('');
    const addresses = a.refused.filter((x) => !isAttributeRefusal(x.code));
    const values = a.refused.filter((x) => isAttributeRefusal(x.code));
    out.push(`refused addresses (${addresses.length}): no node advertises these`);
    for (const x of addresses) out.push(`  ${safe(x.namespace)}/${safe(x.service)} ${safe(x.address || '-')}: ${safe(x.message)}`);
    if (values.length > 0) {
      out.push('');
      out.push(`refused annotation values (${values.length}): the Services' routes are advertised without these`);
      for (const x of values) out.push(`  ${safe(x.namespace)}/${safe(x.service)} ${safe(x.address || '-')}: ${safe(x.message)}`);
    }
    out.push('');
    out.push(`withheld on this node (${a.withheld.length}): other nodes may advertise these`);
    for (const x of a.withheld) out.push(`  ${safe(x.namespace)}/${safe(x.service)} ${safe(x.address)}: ${safe(x.message)}`);
  }
  return `${out.join('\n')}\n`;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("This node's svcbgp and gobgpd: peers, owned routes and why, refused and withheld addresses, the last pass (never asks the Kubernetes API)")
    .addOption(new Option('--agent <addr>', "the agent's --http-address").env('SVCBGP_HTTP_ADDRESS').default('127.0.0.1:9479'))
    .addOption(
      new Option('--gobgp-address <addr>', "gobgpd's gRPC API (unix:///path.sock or loopback host:port)").env('GOBGP_ADDRESS').default('127.0.0.1:50051'),
    )
    .addOption(new Option('-o, --output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .addOption(new Option('--timeout <ms>', 'per source').default('5000'))
    .action(async (o: { agent: string; gobgpAddress: string; output: string; timeout: string }) => {
      const report = await gatherStatus({ agent: o.agent, gobgpAddress: o.gobgpAddress, timeoutMs: Number(o.timeout) || 5000 });
      process.stdout.write(o.output === 'json' ? `${safeJson(report, 2)}\n` : formatStatus(report));
      process.exitCode = report.agent.status?.ready && !report.gobgpd.error ? 0 : 1;
    });
}
