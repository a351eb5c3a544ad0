import { spawn } from 'node:child_process';
import { HTTP_STANDIN, urlFor } from './http.js';

/**
 * Bounded request loops from a lab namespace (the external host) to Service addresses inside the lab: one
 * `http-standin.js loop` process, a GET to every URL every `intervalMs` on a new connection, each with a timeout;
 * it ends on stop() or after `maxMs` at the latest. Only addresses inside the lab: the caller passes Service IPs
 * the lab's nodes serve.
 */
export interface RequestResult {
  url: string;
  /** Date.now() when the request started (the loop runs on this machine's clock). */
  at: number;
  ms: number;
  ok: boolean;
  status?: number;
  /** The node that answered (the stand-in says its name). */
  node?: string;
  /** "ECONNREFUSED", "ENETUNREACH", "timed out after N ms", ... */
  error?: string;
}

export interface TrafficOptions {
  intervalMs?: number;
  timeoutMs?: number;
  /** Upper bound of the loop's life (default 30 min): it never outlives a forgotten stop(). */
  maxMs?: number;
}

export interface Traffic {
  /** Results so far (copy). */
  results(): RequestResult[];
  /** End the loop; resolves with every result once the requests in flight have answered or timed out. */
  stop(): Promise<RequestResult[]>;
}

/** Requests whose start lies in [from, to]. */
export function inWindow(results: readonly RequestResult[], from: number, to: number): RequestResult[] {
  return results.filter((r) => r.at >= from && r.at <= to);
}

/** Count of answers per node, per URL: shows where the ToR's routing sent the requests. */
export function answersByNode(results: readonly RequestResult[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const r of results) {
    if (!r.ok) continue;
    const per = (out[r.url] ??= {});
    const node = r.node ?? '?';
    per[node] = (per[node] ?? 0) + 1;
  }
  return out;
}

/** Parse the loop's output lines (one JSON object each; the first says what it started). */
export function parseTrafficLines(lines: readonly string[]): RequestResult[] {
  const out: RequestResult[] = [];
  for (const l of lines) {
    if (l.trim() === '') continue;
    const v = JSON.parse(l) as Partial<RequestResult> & { started?: number };
    if (v.started !== undefined || v.url === undefined) continue;
    out.push({
      url: v.url,
      at: v.at ?? 0,
      ms: v.ms ?? 0,
      ok: v.ok === true,
      ...(v.status !== undefined ? { status: v.status } : {}),
      ...(typeof v.node === 'string' ? { node: v.node } : {}),
      ...(v.error !== undefined ? { error: v.error } : {}),
    });
  }
  return out;
}

/** Start a request loop inside `ns` to `addrs` (port 80). */
export function startTraffic(ns: string, addrs: readonly string[], opts: TrafficOptions = {}): Traffic {
  const urls = addrs.map((a) => urlFor(a, 80));
  const argv = [
    'netns',
    'exec',
    ns,
    process.execPath,
    HTTP_STANDIN,
    'loop',
    String(opts.intervalMs ?? 100),
    String(opts.timeoutMs ?? 1000),
    String(opts.maxMs ?? 30 * 60_000),
    ...urls,
  ];
  const child = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return {
    results: () => parseTrafficLines(lines),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      if (buffered.trim() !== '') lines.push(buffered);
      return parseTrafficLines(lines);
    },
  };
}
