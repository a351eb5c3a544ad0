import { fileURLToPath } from 'node:url';
import { nsRun } from './exec.js';

/** The compiled stand-in script next to this module (dist/test/lab/http-standin.js). */
export const HTTP_STANDIN = fileURLToPath(new URL('./http-standin.js', import.meta.url));

export interface HttpResult {
  ok: boolean;
  status?: number;
  /** Response body; the stand-in answers {"node": "<node name>", "addr": "<service ip>", ...}. */
  body?: string;
  /** The node that answered (parsed from the stand-in's body). */
  node?: string;
  /** Error code when !ok: "ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", or "timed out after N ms". */
  error?: string;
  ms: number;
}

/** HTTP GET from inside a namespace (the external host, usually), with a timeout. Never throws for network errors. */
export async function httpGetFrom(ns: string, url: string, timeoutMs: number): Promise<HttpResult> {
  const r = await nsRun(ns, process.execPath, [HTTP_STANDIN, 'get', url, String(timeoutMs)], { timeoutMs: timeoutMs + 10_000 });
  const res = JSON.parse(r.stdout.trim()) as HttpResult;
  if (res.ok && res.body) {
    try {
      const b = JSON.parse(res.body) as { node?: string };
      if (b.node) res.node = b.node;
    } catch {
      /* not the stand-in */
    }
  }
  return res;
}

/** URL for an address (IPv6 in brackets). */
export function urlFor(addr: string, port = 80, path = '/'): string {
  return `http://${addr.includes(':') ? `[${addr}]` : addr}:${port}${path}`;
}
