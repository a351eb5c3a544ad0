/**
 * A byte relay that lets a process in a lab node's namespace reach the Kubernetes API server, which listens on
 * 127.0.0.1 in the root namespace (test/k8s/control-plane.sh), without adding any address or route to the root
 * namespace: unix sockets are not namespaced, so two relays meet at a socket file in the lab's run dir.
 *
 *   root namespace:  node api-relay.js unix-to-tcp <socket> <host> <port>   accept on <socket>, connect to host:port
 *   node namespace:  node api-relay.js tcp-to-unix <host> <port> <socket>   accept on host:port, connect to <socket>
 *
 * TLS goes through untouched (client certificate and server certificate end to end): with the node side on
 * 127.0.0.1:<the API server's port>, the control plane's kubeconfigs work unchanged inside the node.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';

function pipe(client: net.Socket, connect: () => net.Socket): void {
  const upstream = connect();
  client.pipe(upstream).pipe(client);
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
}

function listen(server: net.Server, what: string): void {
  server.on('error', (e) => {
    process.stderr.write(`api-relay: ${what}: ${e.message}\n`);
    process.exit(1);
  });
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'unix-to-tcp' && a && b && c) {
  rmSync(a, { force: true });
  const server = net.createServer((s) => pipe(s, () => net.connect(Number(c), b)));
  listen(server, `listening on ${a}`);
  server.listen(a, () => process.stdout.write(`relaying ${a} -> ${b}:${c}\n`));
} else if (mode === 'tcp-to-unix' && a && b && c) {
  const server = net.createServer((s) => pipe(s, () => net.connect(c)));
  listen(server, `listening on ${a}:${b}`);
  server.listen(Number(b), a, () => process.stdout.write(`relaying ${a}:${b} -> ${c}\n`));
} else {
  process.stderr.write('usage: api-relay unix-to-tcp <socket> <host> <port> | tcp-to-unix <host> <port> <socket>\n');
  process.exit(2);
}
