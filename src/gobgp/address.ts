import ipaddr from 'ipaddr.js';

/**
 * gobgpd's gRPC API has no authentication: whoever reaches it can rewrite the node's routing. svcbgp
 * therefore only dials a unix socket (unix:///run/gobgp/gobgp.sock, the deployment default) or a
 * loopback TCP address (127.0.0.1:50051, [::1]:50051, localhost:50051).
 * Returns the target in the form @grpc/grpc-js expects.
 */
export function parseGobgpAddress(address: string): string {
  if (address.startsWith('unix:')) {
    const p = address.startsWith('unix://') ? address.slice('unix://'.length) : address.slice('unix:'.length);
    if (!p.startsWith('/')) {
      throw new Error(`invalid gobgpd address "${address}": a unix socket needs an absolute path (unix:///run/gobgp/gobgp.sock)`);
    }
    return `unix://${p}`;
  }
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const host = m ? (m[1] ?? m[2] ?? '') : ''; // the pattern sets one of the two groups
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new Error(`invalid gobgpd address "${address}": expected host:port (127.0.0.1:50051, [::1]:50051) or unix:///path.sock`);
  }
  const loopback = host === 'localhost' || (ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback');
  if (!loopback) {
    throw new Error(`refusing gobgpd address "${address}": gobgpd's API has no authentication, use a loopback address or a unix socket`);
  }
  return m[1] ? `[${host}]:${port}` : `${host}:${port}`;
}
