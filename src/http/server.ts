import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'winston';
import type { AgentMetrics } from './metrics.js';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean>;
  /** Facts shown after the checks, e.g. the gobgpd API in use ("gobgpd-api: v4"). */
  info?: Record<string, string>;
}

export interface HealthServer {
  /** The address actually bound ("127.0.0.1:9479", "[::]:9479"). */
  address: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Parses --http-address: "host:port", ":port" (all interfaces, like Go's net/http), "[v6]:port".
 * We bind exactly what was given — the health/metrics port serves no secrets but is unauthenticated.
 */
export function parseListenAddress(text: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) throw new Error(`invalid --http-address "${text}": expected host:port, :port or [ipv6]:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid --http-address "${text}": port ${port} out of range 0..65535`);
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port };
}

/** /healthz (process alive), /readyz (every check true), /metrics (Prometheus text), /status (JSON, read-only). */
export async function startHealthServer(
  listen: string,
  readiness: () => ReadinessReport,
  metrics: AgentMetrics,
  log: Logger,
  status?: () => unknown,
): Promise<HealthServer> {
  const { host, port } = parseListenAddress(listen);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const r = readiness();
      const body = Object.entries(r.checks)
        .map(([k, v]) => `[${v ? '+' : '-'}]${k} ${v ? 'ok' : 'failed'}`)
        .join('\n');
      const info = Object.entries(r.info ?? {})
        .map(([k, v]) => `${k}: ${v}\n`)
        .join('');
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(`${body}\n${info}${r.ready ? 'ready' : 'not ready'}\n`);
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else if (path === '/status' && status) {
      let body: string;
      try {
        body = JSON.stringify(status());
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${body}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try /healthz, /readyz, /metrics${status ? ', /status' : ''}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  log.info('health and metrics server listening', { address, paths: ['/healthz', '/readyz', '/metrics', ...(status ? ['/status'] : [])] });
  return {
    address,
    port: a.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
