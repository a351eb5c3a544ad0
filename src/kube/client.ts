import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { STATUS_CODES } from 'node:http';
import type { KubeTarget } from './kubeconfig.js';
import { SVCBGP_VERSION } from '../version.js';

/**
 * The agent's Kubernetes client: JSON over HTTP/1.1 to the API server, for the few calls svcbgp makes — paged
 * lists, watches, one GET (Secrets), one POST (Events), and for the address allocator the Lease (GET, POST, PUT) and
 * Service status (PATCH). The API's objects stay plain parsed JSON: client-node's
 * typed clients turn every listed object into instances of its generated model classes (time and garbage at
 * 10,000 Services), and its module loads all of them (docs/bench.md). Types still come from
 * client-node (`import type`: nothing of it is loaded at run time).
 */

/** An error answer of the API server: `code` is the HTTP status (404, 409, 410, ...), `reason` the Status reason. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string | undefined,
    message: string,
    /** The answer's Retry-After (429, 503): how long the server asks the client to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** The list shape every Kubernetes list has: items and the snapshot's resourceVersion / continue token. */
export interface ListResult<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface KubeWatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** A watch in progress (its `done` callback runs once: null when the server ended the watch, an Error otherwise). */
export interface KubeWatchHandle {
  abort(): void;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface CallOptions {
  /** Give up waiting for the answer after this long (default: the client's idle timeout). */
  timeoutMs?: number;
  /** Content-Type of the body (default application/json). */
  contentType?: string;
}

/**
 * A request is idle (no answer, no byte of it) this long: fail it (the caller retries). Above the API server's own
 * request timeout (60 s), so a slow list under etcd load ends with the server's answer, not ours.
 */
const REQUEST_TIMEOUT_MS = 70_000;
/** A watch request gets no answer header for this long: fail it (a connection accepted and never answered). */
const WATCH_HEADER_TIMEOUT_MS = 30_000;
/**
 * A watch still open this long after its timeoutSeconds is dead, however alive its TCP connection looks (an L7
 * proxy or load balancer in between, a wedged server): the server itself ends every watch at timeoutSeconds.
 */
const WATCH_DEADLINE_SLACK_MS = 60_000;
/** TCP keepalive on watch connections, as client-node and client-go do: a dead peer is noticed within minutes. */
const KEEPALIVE_MS = 30_000;
/** The token file is read again after this long (the kubelet rotates projected tokens). */
const TOKEN_REREAD_MS = 60_000;

interface Auth {
  headers: Record<string, string>;
  cert?: Buffer | string;
  key?: Buffer | string;
}

export class KubeClient {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly secure: boolean;
  private pluginAuth: ((opts: https.RequestOptions) => Promise<void>) | undefined;
  private tokenCache: { token: string; readAt: number } | undefined;

  private readonly watchHeaderTimeoutMs: number;
  private readonly watchDeadlineSlackMs: number;

  constructor(
    readonly target: KubeTarget,
    timeouts: { watchHeaderTimeoutMs?: number; watchDeadlineSlackMs?: number } = {},
  ) {
    this.watchHeaderTimeoutMs = timeouts.watchHeaderTimeoutMs ?? WATCH_HEADER_TIMEOUT_MS;
    this.watchDeadlineSlackMs = timeouts.watchDeadlineSlackMs ?? WATCH_DEADLINE_SLACK_MS;
    this.url = new URL(target.server);
    this.secure = this.url.protocol === 'https:';
    const tls: https.AgentOptions = {
      keepAlive: true,
      ...(target.ca ? { ca: target.ca } : {}),
      ...(target.cert ? { cert: target.cert } : {}),
      ...(target.key ? { key: target.key } : {}),
      ...(target.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
      ...(target.tlsServerName ? { servername: target.tlsServerName } : {}),
    };
    this.agent = this.secure ? new https.Agent(tls) : new http.Agent({ keepAlive: true });
  }

  /** GET a path; the parsed JSON answer. */
  get<T>(path: string, query: Query = {}, opts: CallOptions = {}): Promise<T> {
    return this.json<T>('GET', path, query, undefined, opts);
  }

  /** POST a JSON body; the parsed answer. */
  post<T>(path: string, body: unknown, opts: CallOptions = {}): Promise<T> {
    return this.json<T>('POST', path, {}, body, opts);
  }

  /** PUT a whole object (an update: its metadata.resourceVersion is the precondition, 409 when stale). */
  put<T>(path: string, body: unknown, opts: CallOptions = {}): Promise<T> {
    return this.json<T>('PUT', path, {}, body, opts);
  }

  /** PATCH with a strategic merge patch; a metadata.resourceVersion in it is a precondition (409 when stale). */
  patch<T>(path: string, body: unknown, opts: CallOptions = {}): Promise<T> {
    return this.json<T>('PATCH', path, {}, body, { contentType: 'application/strategic-merge-patch+json', ...opts });
  }

  /**
   * One full list in pages of `limit` objects (limit/continue): a large cluster is never one huge response to
   * parse at once. The pages are one consistent snapshot (the API server serves them from the first page's
   * resourceVersion), whose resourceVersion the last page carries; if the snapshot expires between pages (410),
   * the error ends this list. `each` sees every object as its page arrives (the caches project there, so a page's
   * full objects are garbage at once); what it returns is what the list holds.
   */
  async listAll<T, R = T>(path: string, query: Query, limit: number, each: (obj: T) => R): Promise<ListResult<R>> {
    const items: R[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await this.get<ListResult<T>>(path, { ...query, limit, ...(cont ? { continue: cont } : {}) });
      for (const obj of page.items ?? []) items.push(each(obj));
      rv = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, metadata: rv !== undefined ? { resourceVersion: rv } : {} };
  }

  /**
   * A watch (`?watch=1`): one event per line of the chunked answer. Resolves once the server answered 200 (the
   * watch is open) or the request failed (then `done` already ran with the error). A non-200 answer is a
   * KubeApiError with its status.
   */
  async watch<T>(path: string, query: Query, onEvent: (e: KubeWatchEvent<T>) => void, done: (err: Error | null) => void): Promise<KubeWatchHandle> {
    let finished = false;
    let req: http.ClientRequest | undefined;
    const finish = (err: Error | null): void => {
      if (finished) return;
      finished = true;
      req?.destroy();
      done(err);
    };
    const handle: KubeWatchHandle = {
      abort: () => {
        finished = true;
        req?.destroy();
      },
    };
    let opts: https.RequestOptions;
    try {
      opts = await this.options('GET', path, { ...query, watch: 1 });
    } catch (err) {
      finish(asError(err));
      return handle;
    }
    const timeoutS = typeof query['timeoutSeconds'] === 'number' ? query['timeoutSeconds'] : undefined;
    let deadline: NodeJS.Timeout | undefined;
    const clearDeadline = (): void => {
      if (deadline) clearTimeout(deadline);
      deadline = undefined;
    };
    await new Promise<void>((resolveOpen) => {
      const request = this.module().request(opts, (res) => {
        request.setTimeout(0);
        if (res.statusCode !== 200) {
          // Reported (done) before start() learns the watch did not open.
          readBody(res)
            .then(
              (text) => finish(apiError(res.statusCode ?? 0, text, path, res.headers['retry-after'])),
              (e: unknown) => finish(asError(e)),
            )
            .finally(resolveOpen);
          return;
        }
        res.socket?.setKeepAlive(true, KEEPALIVE_MS);
        if (timeoutS !== undefined) {
          const slack = this.watchDeadlineSlackMs;
          deadline = setTimeout(
            () => finish(new Error(`watch ${path}: still open ${slack / 1000} s after its timeout of ${timeoutS} s`)),
            timeoutS * 1000 + slack,
          );
          deadline.unref();
        }
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim() === '') continue;
            let ev: unknown;
            try {
              ev = JSON.parse(line);
            } catch {
              finish(new Error(`watch ${path}: an event that is not JSON`));
              return;
            }
            if (typeof ev !== 'object' || ev === null || typeof (ev as { type?: unknown }).type !== 'string') {
              finish(new Error(`watch ${path}: an event without a type`));
              return;
            }
            if (!finished) onEvent(ev as KubeWatchEvent<T>);
          }
        });
        res.on('end', () => finish(null));
        res.on('aborted', () => finish(new Error(`watch ${path}: connection closed mid-answer`)));
        res.on('error', (e) => finish(e));
        res.on('close', () => finish(null));
        resolveOpen();
      });
      req = request;
      const headerMs = this.watchHeaderTimeoutMs;
      request.setTimeout(headerMs, () => request.destroy(new Error(`watch ${path}: no answer in ${headerMs / 1000} s`)));
      request.on('error', (e) => {
        finish(e);
        resolveOpen();
      });
      request.on('close', clearDeadline);
      request.end();
    });
    return handle;
  }

  private module(): typeof https | typeof http {
    return this.secure ? https : http;
  }

  private async json<T>(method: string, path: string, query: Query, body?: unknown, write: CallOptions = {}): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const opts = await this.options(method, path, query, payload, write.contentType);
    const timeoutMs = write.timeoutMs ?? REQUEST_TIMEOUT_MS;
    try {
      return await this.once<T>(opts, method, path, payload, timeoutMs);
    } catch (err) {
      // A kept-alive connection the server (or a proxy) closed while idle fails the next request on it: a GET is
      // safe to send once more, on a new connection. So are svcbgp's PUTs and PATCHes, which all carry a
      // resourceVersion precondition: had the server applied the first, the second fails with 409.
      if (!(err instanceof StaleSocketError) || !['GET', 'PUT', 'PATCH'].includes(method)) throw err;
      return this.once<T>(opts, method, path, payload, timeoutMs);
    }
  }

  private once<T>(opts: https.RequestOptions, method: string, path: string, payload: string | undefined, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolveJson, reject) => {
      const req = this.module().request(opts, (res) => {
        readBody(res).then((text) => {
          const code = res.statusCode ?? 0;
          if (code < 200 || code >= 300) {
            reject(apiError(code, text, path, res.headers['retry-after']));
            return;
          }
          try {
            resolveJson(JSON.parse(text) as T);
          } catch {
            reject(new Error(`${method} ${path}: the answer is not JSON`));
          }
        }, reject);
      });
      let answered = false;
      req.on('response', () => (answered = true));
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs / 1000} s`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        const stale = !answered && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE');
        reject(stale ? new StaleSocketError(e.message) : e);
      });
      req.end(payload);
    });
  }

  private async options(method: string, path: string, query: Query, payload?: string, contentType = 'application/json'): Promise<https.RequestOptions> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const base = this.url.pathname.replace(/\/+$/, '');
    const auth = await this.auth();
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': `svcbgp/${SVCBGP_VERSION}`,
      ...auth.headers,
    };
    if (payload !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    return {
      method,
      protocol: this.url.protocol,
      hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || (this.secure ? 443 : 80),
      path: `${base}${path}${qs.size > 0 ? `?${qs.toString()}` : ''}`,
      headers,
      agent: auth.cert || auth.key ? undefined : this.agent,
      ...(auth.cert ? { cert: auth.cert } : {}),
      ...(auth.key ? { key: auth.key } : {}),
      ...(auth.cert || auth.key ? this.tlsOptions() : {}),
    };
  }

  /** TLS options for a one-off request (a plugin that hands out client certificates). */
  private tlsOptions(): https.RequestOptions {
    const t = this.target;
    return {
      ...(t.ca ? { ca: t.ca } : {}),
      ...(t.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
      ...(t.tlsServerName ? { servername: t.tlsServerName } : {}),
    };
  }

  private async auth(): Promise<Auth> {
    const t = this.target;
    if (t.plugin) return this.viaPlugin(t.plugin);
    const token = t.token ?? this.fileToken();
    if (token) return { headers: { Authorization: `Bearer ${token}` } };
    if (t.basicAuth) return { headers: { Authorization: `Basic ${Buffer.from(`${t.basicAuth.username}:${t.basicAuth.password}`).toString('base64')}` } };
    return { headers: {} };
  }

  /**
   * A token file is read again every minute, as client-go does: the kubelet rotates projected tokens. A file that
   * cannot be read then (being replaced) leaves the last token in use; only a first read that fails is an error.
   */
  private fileToken(): string | undefined {
    const file = this.target.tokenFile;
    if (!file) return undefined;
    const now = Date.now();
    if (!this.tokenCache || now - this.tokenCache.readAt > TOKEN_REREAD_MS) {
      try {
        this.tokenCache = { token: readFileSync(file, 'utf8').trim(), readAt: now };
      } catch (err) {
        if (!this.tokenCache) throw err;
        this.tokenCache.readAt = now;
      }
    }
    return this.tokenCache.token;
  }

  /** exec / auth-provider users: client-node runs the plugin (loaded only for such a kubeconfig). */
  private async viaPlugin(plugin: { kubeconfig: string; dir: string }): Promise<Auth> {
    if (!this.pluginAuth) {
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      kc.loadFromString(plugin.kubeconfig);
      kc.makePathsAbsolute(plugin.dir);
      this.pluginAuth = (o) => kc.applyToHTTPSOptions(o);
    }
    const o: https.RequestOptions = { headers: {} };
    await this.pluginAuth(o);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (typeof v === 'string') headers[k] = v;
    const auth: Auth = { headers };
    if (typeof o.cert === 'string' || Buffer.isBuffer(o.cert)) auth.cert = o.cert;
    if (typeof o.key === 'string' || Buffer.isBuffer(o.key)) auth.key = o.key;
    return auth;
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('connection closed mid-answer')));
  });
}

/** A request failed on a kept-alive connection before any answer: the connection was closed while idle. */
class StaleSocketError extends Error {}

/** Retry-After in seconds (the API server never sends the HTTP-date form) as milliseconds, within 1 s .. 5 min. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  const s = v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isFinite(s) ? Math.min(300, Math.max(1, s)) * 1000 : undefined;
}

/** The API server's Status (message, reason) when the body is one; else the HTTP status text. */
function apiError(code: number, body: string, path: string, retryAfter?: string | string[]): KubeApiError {
  let reason: string | undefined;
  let msg: string | undefined;
  try {
    const s = JSON.parse(body) as { kind?: unknown; message?: unknown; reason?: unknown };
    if (typeof s.message === 'string') msg = s.message;
    if (typeof s.reason === 'string') reason = s.reason;
  } catch {
    // not a Status
  }
  return new KubeApiError(code, reason, `${code} ${STATUS_CODES[code] ?? ''}: ${msg ?? path}`.replace('  ', ' '), retryAfterMs(retryAfter));
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
