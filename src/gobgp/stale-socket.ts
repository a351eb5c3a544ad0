import { lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import type { Logger } from '../log/logger.js';

/**
 * A gobgpd that is SIGKILLed (by its dumb-init on SIGTERM, or the OOM killer) leaves its API socket file behind, and
 * gobgpd never removes one at start: when the kubelet restarts only the gobgpd container (same Pod, same emptyDir),
 * gobgpd 3.x exits with "bind: address already in use", again and again, until the Pod is deleted; gobgpd 4.8 logs
 * "failed to listen grpc port" and runs on without an API (the DaemonSet's liveness probe restarts that container).
 * Seen with 3.10, 3.37 and 4.8: they listen with Go's net.Listen("unix"), which fails on an existing path.
 *
 * So the agent, which shares the directory (src/gobgp/speaker.ts, whenever gobgpd does not answer), removes the file when it is certainly stale: it exists, it is a socket,
 * and a connection to it is refused (ECONNREFUSED: nobody listens on that file). That cannot remove a live socket: a
 * new gobgpd cannot bind while the stale file exists, so between our refused connect and our unlink no gobgpd can be
 * listening on it; at worst one that tried just then exits and is restarted by the kubelet a few seconds later.
 */
export async function removeStaleSocket(address: string, log: Logger): Promise<boolean> {
  if (!address.startsWith('unix:')) return false;
  const path = address.startsWith('unix://') ? address.slice('unix://'.length) : address.slice('unix:'.length);
  try {
    if (!(await lstat(path)).isSocket()) return false;
  } catch {
    return false; // absent: gobgpd has not created it yet
  }
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(path);
    const done = (v: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), 2000);
    s.once('connect', () => done(false));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED'));
  });
  if (!refused) return false;
  try {
    await unlink(path);
  } catch {
    return false;
  }
  log.warn('removed a stale gobgpd API socket (left by a killed gobgpd; a restarted gobgpd cannot bind while it exists)', { socket: path });
  return true;
}
