/**
 * STAND-IN for kube-proxy + nginx (no kubelet, container runtime or kube-proxy can run here): a tiny HTTP server
 * bound to a Service IP on a node, answering with the node's name, and a tiny HTTP client for the external host.
 * Run inside a namespace: `ip netns exec <ns> node http-standin.js serve <addr> <port> <node-name>` or
 * `ip netns exec <ns> node http-standin.js get <url> <timeoutMs>` (prints one JSON line, always exits 0).
 */
import http from 'node:http';

function serve(addr: string, port: number, nodeName: string): void {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ node: nodeName, addr, path: req.url ?? '/' }) + '\n');
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
    process.stdout.write(JSON.stringify({ ...v, ms: Date.now() - started }) + '\n');
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

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'serve' && a && b && c) serve(a, Number(b), c);
else if (mode === 'get' && a && b) get(a, Number(b));
else {
  process.stderr.write('usage: http-standin serve <addr> <port> <node-name> | get <url> <timeoutMs>\n');
  process.exit(2);
}
