import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { AgentMetrics } from '../../../src/http/metrics.js';
import { fileURLToPath } from 'node:url';

/** dist/test/unit/http/ -> the repository. */
const repoRoot = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * The queries operators are handed — docs/monitoring/alerts.yaml, docs/monitoring/grafana-dashboard.json and the
 * ```promql blocks of docs/troubleshooting.md — may only name metrics the agent exports, and the names follow Prometheus' conventions
 * (counters end in _total, durations are _seconds, sizes _bytes). A renamed metric breaks this test, not an alert.
 */

interface MetricInfo {
  name: string;
  type: string;
}

/** With prom-client's default process/Node.js metrics (named by prom-client, not checked for conventions) or without. */
function exported(withDefaults = true): Map<string, MetricInfo> {
  const m = new AgentMetrics(withDefaults);
  const out = new Map<string, MetricInfo>();
  for (const metric of (m.registry as unknown as { getMetricsAsArray(): { name: string; type: string }[] }).getMetricsAsArray()) {
    out.set(metric.name, { name: metric.name, type: metric.type });
  }
  return out;
}

/** Every svcbgp_* series name in a PromQL expression, with histogram suffixes mapped to their metric. */
function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\bsvcbgp_[a-zA-Z0-9_]+/g)].map((m) => m[0]))];
}

function seriesExported(series: string, metrics: Map<string, MetricInfo>): boolean {
  if (metrics.has(series)) return true;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return base !== series && metrics.get(base)?.type === 'histogram';
}

function queries(): { where: string; expr: string }[] {
  const root = repoRoot();
  const out: { where: string; expr: string }[] = [];
  const alerts = parse(readFileSync(path.join(root, 'docs/monitoring/alerts.yaml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  for (const g of alerts.groups) for (const r of g.rules) out.push({ where: `alerts.yaml ${r.alert}`, expr: r.expr });
  const dash = JSON.parse(readFileSync(path.join(root, 'docs/monitoring/grafana-dashboard.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  for (const p of dash.panels) for (const t of p.targets) out.push({ where: `dashboard "${p.title}"`, expr: t.expr });
  const guide = readFileSync(path.join(root, 'docs/troubleshooting.md'), 'utf8');
  for (const block of guide.matchAll(/```promql\n([\s\S]*?)```/g)) {
    for (const line of (block[1] ?? '').split('\n')) if (line.trim() && !line.trim().startsWith('#')) out.push({ where: 'troubleshooting.md', expr: line });
  }
  return out;
}

describe('monitoring: alerts, dashboard and troubleshooting.md queries name exported metrics', () => {
  const metrics = exported();

  it('every query names only metrics the agent exports (and there are queries in all three places)', () => {
    const qs = queries();
    for (const where of ['alerts.yaml', 'dashboard', 'troubleshooting.md'])
      expect(
        qs.some((q) => q.where.startsWith(where)),
        where,
      ).to.equal(true);
    const unknown = qs.flatMap((q) =>
      metricNames(q.expr)
        .filter((n) => !seriesExported(n, metrics))
        .map((n) => `${q.where}: ${n}`),
    );
    expect(unknown).to.deep.equal([]);
    // The queries cover sessions, routes, refusals, passes, configuration, gobgpd and drift.
    const all = qs.map((q) => q.expr).join('\n');
    for (const n of [
      'svcbgp_bgp_peer_state',
      'svcbgp_routes_advertised',
      'svcbgp_refused_addresses',
      'svcbgp_reconcile_passes_total',
      'svcbgp_reconcile_duration_seconds_bucket',
      'svcbgp_config_valid',
      'svcbgp_gobgp_up',
      'svcbgp_drift_repairs_total',
    ]) {
      expect(all, n).to.contain(n);
    }
  });

  it('the check catches a name the agent does not export', () => {
    expect(metricNames('sum(svcbgp_routes_advertized) + svcbgp_reconcile_duration_seconds_bucket').filter((n) => !seriesExported(n, metrics))).to.deep.equal([
      'svcbgp_routes_advertized',
    ]);
  });

  it('names follow Prometheus conventions: counters end in _total, histograms carry a base unit, gauges are not _total', () => {
    const bad: string[] = [];
    for (const m of exported(false).values()) {
      if (!m.name.startsWith('svcbgp_')) bad.push(`${m.name}: not prefixed svcbgp_`);
      if (m.type === 'counter' && !m.name.endsWith('_total')) bad.push(`${m.name}: a counter without _total`);
      if (m.type !== 'counter' && m.name.endsWith('_total')) bad.push(`${m.name}: a ${m.type} named _total`);
      if (m.type === 'histogram' && !/_(seconds|bytes)$/.test(m.name)) bad.push(`${m.name}: a histogram without a base unit`);
      if (/_(ms|milliseconds|minutes|kb|mb)(_|$)/.test(m.name)) bad.push(`${m.name}: not a base unit`);
    }
    expect(bad).to.deep.equal([]);
  });
});
