/**
 * STAND-IN for kube-proxy + nginx (no kubelet, container runtime or kube-proxy can run here): a tiny HTTP server
 * bound to a Service IP on a node, answering with the node's name, and a tiny HTTP client for the external host.
 * Run inside a namespace: `ip netns exec <ns> node http-standin.js serve <addr> <port> <node-name>` or
 * `ip netns exec <ns> node http-standin.js get <url> <timeoutMs>` (prints one JSON line, always exits 0), or
 * `ip netns exec <ns> node http-standin.js loop <intervalMs> <timeoutMs> <maxMs> <url>...`: a bounded request loop
 * (test/lab/traffic.ts) — every intervalMs one GET to each URL on a NEW connection (so the ToR's ECMP hash sees a new
 * source port each time), one JSON line per answer or failure, until SIGTERM or maxMs.
 */
import http from 'node:http';

function serve(addr: string, port: number, nodeName: string): void {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(`${JSON.stringify({ node: nodeName, addr, path: req.url ?? '/' })}\n`);
  });
  server.listen(port, addr, () => process.stdout.write(`listening ${addr}:${port} as ${nodeName}\n`));
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function get(url: string, timeoutMs: number): void {
  const started = Date.now();
  const done = (v: Record<string, unknown>): void => {
    process.stdout.write(`${JSON.stringify({ ...v, ms: Date.now() - started })}\n`);
    process.exit(0);
  };
  const req = http.get(url, { timeout: timeoutMs }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (body += d));
    res.on('end', () => done({ ok: true, status: res.statusCode ?? 0, body }));
  });
  req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
  req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message, message: err.message }));
}

function once(url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const started = Date.now();
    const done = (v: Record<string, unknown>): void => resolve({ url, at: started, ms: Date.now() - started, ...v });
    // agent: false: a fresh TCP connection per request (Node's global agent keeps connections alive).
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        let node: unknown;
        try {
          node = (JSON.parse(body) as { node?: unknown }).node;
        } catch {
          node = undefined;
        }
        done({ ok: res.statusCode === 200, status: res.statusCode ?? 0, node });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
  });
}

function loop(intervalMs: number, timeoutMs: number, maxMs: number, urls: string[]): void {
  const end = Date.now() + maxMs;
  let stopping = false;
  const inFlight = new Set<Promise<void>>();
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void Promise.all(inFlight).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const tick = (): void => {
    if (stopping) return;
    if (Date.now() >= end) {
      stop();
      return;
    }
    for (const url of urls) {
      const p = once(url, timeoutMs).then((r) => void process.stdout.write(`${JSON.stringify(r)}\n`));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    setTimeout(tick, intervalMs);
  };
  process.stdout.write(`${JSON.stringify({ started: Date.now(), urls })}\n`);
  tick();
}

const [mode, a, b, c, ...more] = process.argv.slice(2);
if (mode === 'serve' && a && b && c) serve(a, Number(b), c);
else if (mode === 'get' && a && b) get(a, Number(b));
else if (mode === 'loop' && a && b && c && more.length > 0) loop(Number(a), Number(b), Number(c), more);
else {
  process.stderr.write('usage: http-standin serve <addr> <port> <node-name> | get <url> <timeoutMs> | loop <intervalMs> <timeoutMs> <maxMs> <url>...\n');
  process.exit(2);
}
