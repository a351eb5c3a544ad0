/**
 * The benchmark suite's report (pure): percentiles, the Markdown table for docs/bench.md and the SVG plot for
 * docs/bench.svg (latency and RSS against cluster size, with the raw baselines). Hand-written SVG: two panels of
 * polylines on log-scaled x axes are a few dozen lines, and the plot then needs no browser or native library.
 */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Steady churn at one rate: changes of several kinds, each measured until gobgpd shows it. */
export interface ChurnResult {
  /** Changes started per second (open loop: each starts on time, whether or not the last one is done). */
  rate: number;
  seconds: number;
  /** Changes started, and measured (a scale-up changes no route: load, not measured). */
  started: number;
  all: Percentiles;
  /** From a change's first API write until its last one answered: the API server's share. */
  writes: Percentiles;
  /** From the answer to a change's last API write until gobgpd showed it (0 when gobgpd was first). */
  afterWrites: Percentiles;
  measured: number;
  missed: number;
  /** By kind: new (a Service and its slice), flap-away, flap-back, delete. */
  kinds: Record<string, Percentiles & { n: number }>;
  /** Drift passes the agent ran meanwhile (svcbgp_reconcile_passes_total is per reason-less; from the log). */
  driftPasses: number;
}

export interface SizeResult {
  services: number;
  endpoints: number;
  /** Raw baseline: paged lists + StartBgp + AddPathStream of the same paths. */
  rawMs: number;
  /** Agent start to every path in gobgpd. */
  coldMs: number;
  /** 3 s after convergence. */
  rssMiB: number;
  heapMiB: number;
  /** The peak RSS until then (VmHWM: the cold sync's). */
  peakRssMiB: number;
  /** After 30 s without changes (V8's memory reducer has run). */
  idleRssMiB: number;
  latency: Percentiles;
  changes: number;
  missed: number;
  burst?: { changes: number; ms: number; writesMs: number; passes?: number };
  /** A new Service and its EndpointSlice, two writes back to back, until the /32 is in gobgpd. */
  twoWrite?: Percentiles;
  twoWriteChanges?: number;
  twoWriteMissed?: number;
  /** Node starting and importing the agent's modules: part of the cold sync, not of the baseline. */
  moduleLoadMs: number;
  passes: number;
  mismatches: number;
  churn?: ChurnResult[];
}

/** Nearest-rank percentiles (p99 of 100 samples is the 99th smallest). Empty: all NaN. */
export function summarize(samples: readonly number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  const rank = (p: number): number => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!);
  return { p50: rank(50), p90: rank(90), p99: rank(99), p999: rank(99.9), max: s.length === 0 ? NaN : s[s.length - 1]! };
}

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const thousands = (n: number): string => n.toLocaleString('en-US');

export function renderMarkdown(
  results: readonly SizeResult[],
  meta: { date: string; machine: string; gobgpd: string; kubernetes: string; node: string; nodeFlags: readonly string[] },
): string {
  const lines: string[] = [];
  lines.push('# svcbgp benchmark (`npm run bench`)', '');
  lines.push(
    `Measured ${meta.date} on ${meta.machine} (shared, noisy: compare the ratios, measured in the same run); gobgpd ${meta.gobgpd}, Kubernetes ${meta.kubernetes}, Node.js ${meta.node}; the agent runs as \`node ${[...meta.nodeFlags, 'dist/src/cli/main.js run'].join(' ')}\`.`,
  );
  lines.push(
    'How each number is taken: the header of test/bench/suite.ts. Targets: cold sync within 1.25x of the raw baseline; event to RIB p99 at most 100 ms at 10,000 Services and within 1.5x of its value at 1,000; agent RSS at most 150 MiB at 10,000 Services and 50,000 endpoints.',
    '',
  );
  lines.push(
    '| Services | endpoints each | raw baseline | cold sync | ratio | process start | ratio without it | event→RIB p50 | p90 | p99 | max | changes (missed) | two writes→RIB p50 | p99 | max | burst (API writes alone; passes) | RSS | heap | RSS peak | RSS idle 30 s | passes | mismatches |',
  );
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    lines.push(
      `| ${thousands(r.services)} | ${r.endpoints} | ${f(r.rawMs / 1000, 2)} s | ${f(r.coldMs / 1000, 2)} s | ${f(r.coldMs / r.rawMs, 2)}x | ${f(r.moduleLoadMs / 1000, 2)} s | ${f((r.coldMs - r.moduleLoadMs) / r.rawMs, 2)}x | ${f(r.latency.p50)} ms | ${f(r.latency.p90)} ms | ${f(r.latency.p99)} ms | ${f(r.latency.max)} ms | ${r.changes} (${r.missed}) | ${r.twoWrite ? `${f(r.twoWrite.p50)} ms` : 'n/a'} | ${r.twoWrite ? `${f(r.twoWrite.p99)} ms` : 'n/a'} | ${r.twoWrite ? `${f(r.twoWrite.max)} ms` : 'n/a'} | ${r.burst ? `${thousands(r.burst.changes)} in ${f(r.burst.ms / 1000, 2)} s (${f(r.burst.writesMs / 1000, 2)} s; ${r.burst.passes ?? 'n/a'})` : 'n/a'} | ${r.rssMiB} MiB | ${r.heapMiB} MiB | ${r.peakRssMiB} MiB | ${r.idleRssMiB} MiB | ${r.passes} | ${r.mismatches} |`,
    );
  }
  const one = results.filter((r) => r.endpoints === 1);
  const at = (n: number): SizeResult | undefined => one.find((r) => r.services === n);
  const base = at(1000);
  if (base) {
    const ratios = one.filter((r) => r.services !== 1000).map((r) => `${thousands(r.services)}: ${f(r.latency.p99 / base.latency.p99, 2)}x`);
    if (ratios.length > 0) lines.push('', `Event→RIB p99 relative to 1,000 Services: ${ratios.join(', ')}.`);
  }
  const churned = results.filter((r) => r.churn && r.churn.length > 0);
  if (churned.length > 0) {
    lines.push(
      '',
      '### Steady churn: event to RIB',
      '',
      "Open loop (each change starts on time, whether or not the ones before are done), for at least a minute, across the agent's drift pass (every 60 s): new Services with their slice (two writes), endpoints moving to another node and back (flap), scale-ups (a second endpoint: no route changes, load only) and deletions of the new Services. Each measured change runs from just before its first API write until gobgpd shows it.",
      '',
      '| Services | changes/s | seconds | started | measured (missed) | p50 | p90 | p99 | p99.9 | max | API writes alone p50 / p99 / max | answer to the last write→RIB p50 / p99 / max | by kind: p99 / max | drift passes |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
    );
    for (const r of churned) {
      for (const c of r.churn ?? []) {
        const kinds = Object.entries(c.kinds)
          .map(([k, v]) => `${k} ${f(v.p99)} / ${f(v.max)} ms (${v.n})`)
          .join('; ');
        lines.push(
          `| ${thousands(r.services)} | ${c.rate} | ${c.seconds} | ${c.started} | ${c.measured} (${c.missed}) | ${f(c.all.p50)} ms | ${f(c.all.p90)} ms | ${f(c.all.p99)} ms | ${f(c.all.p999)} ms | ${f(c.all.max)} ms | ${f(c.writes.p50)} / ${f(c.writes.p99)} / ${f(c.writes.max)} ms | ${f(c.afterWrites.p50)} / ${f(c.afterWrites.p99)} / ${f(c.afterWrites.max)} ms | ${kinds} | ${c.driftPasses} |`,
        );
      }
    }
  }
  lines.push('', '![latency and RSS against cluster size](bench.svg)', '');
  return lines.join('\n');
}

interface Series {
  label: string;
  color: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

function panel(x0: number, title: string, yLabel: string, series: Series[]): string {
  const W = 420;
  const H = 260;
  const left = 56;
  const top = 30;
  const pw = W - left - 20;
  const ph = H - top - 50;
  const xs = series.flatMap((s) => s.points.map((p) => p.x)).filter((x) => x > 0);
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite);
  if (xs.length === 0 || ys.length === 0) return '';
  const lx0 = Math.log10(Math.min(...xs));
  const lx1 = Math.max(lx0 + 1, Math.log10(Math.max(...xs)));
  const y1 = Math.max(...ys) * 1.1 || 1;
  const px = (x: number): number => x0 + left + ((Math.log10(x) - lx0) / (lx1 - lx0)) * pw;
  const py = (y: number): number => top + ph - (y / y1) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + left}" y="18" font-size="13" font-weight="bold">${title}</text>`);
  out.push(`<line x1="${x0 + left}" y1="${top + ph}" x2="${x0 + left + pw}" y2="${top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${x0 + left}" y1="${top}" x2="${x0 + left}" y2="${top + ph}" stroke="#333"/>`);
  for (const x of [...new Set(xs)]) {
    out.push(`<text x="${px(x)}" y="${top + ph + 14}" font-size="10" text-anchor="middle">${x >= 1000 ? `${x / 1000}k` : x}</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const y = (y1 / 4) * k;
    out.push(`<text x="${x0 + left - 4}" y="${py(y) + 3}" font-size="10" text-anchor="end">${y >= 100 ? Math.round(y) : y.toFixed(1)}</text>`);
    out.push(`<line x1="${x0 + left}" y1="${py(y)}" x2="${x0 + left + pw}" y2="${py(y)}" stroke="#ddd"/>`);
  }
  out.push(`<text x="${x0 + 12}" y="${top + ph / 2}" font-size="10" transform="rotate(-90 ${x0 + 12} ${top + ph / 2})" text-anchor="middle">${yLabel}</text>`);
  out.push(`<text x="${x0 + left + pw / 2}" y="${top + ph + 30}" font-size="10" text-anchor="middle">Services (log scale)</text>`);
  series.forEach((s, i) => {
    const pts = s.points
      .filter((p) => Number.isFinite(p.y))
      .map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)
      .join(' ');
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ''} points="${pts}"/>`);
    for (const p of s.points.filter((q) => Number.isFinite(q.y)))
      out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    out.push(`<text x="${x0 + left + 8}" y="${top + ph + 44 + 0}" dx="${i * 130}" font-size="10" fill="${s.color}">${s.label}</text>`);
  });
  return out.join('\n');
}

export function renderSvg(results: readonly SizeResult[]): string {
  const one = results.filter((r) => r.endpoints === 1);
  const pts = (y: (r: SizeResult) => number): { x: number; y: number }[] => one.map((r) => ({ x: r.services, y: y(r) }));
  const left = panel(0, 'Time (1 endpoint per Service)', 'seconds / milliseconds', [
    { label: 'cold sync (s)', color: '#1f77b4', points: pts((r) => r.coldMs / 1000) },
    { label: 'raw baseline (s)', color: '#1f77b4', dashed: true, points: pts((r) => r.rawMs / 1000) },
    { label: 'event→RIB p99 (ms/10)', color: '#d62728', points: pts((r) => r.latency.p99 / 10) },
  ]);
  const right = panel(440, 'Agent memory after convergence', 'MiB', [
    { label: 'RSS', color: '#2ca02c', points: pts((r) => r.rssMiB) },
    { label: 'V8 heap used', color: '#9467bd', dashed: true, points: pts((r) => r.heapMiB) },
    { label: 'RSS idle 30 s', color: '#2ca02c', dashed: true, points: pts((r) => r.idleRssMiB) },
  ]);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="880" height="300" font-family="sans-serif">\n<rect width="880" height="300" fill="white"/>\n${left}\n${right}\n</svg>\n`;
}
