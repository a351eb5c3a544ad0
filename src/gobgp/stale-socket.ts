import { lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import type { Logger } from '../log/logger.js';

/**
 * A SIGKILLed gobgpd leaves its API socket file behind, and no gobgpd removes one at start (Go's net.Listen("unix")
 * fails on an existing path): a restarted gobgpd container cannot serve its API. The agent removes the file only when
 * a connection to it is refused, which cannot happen to a live socket (docs/design.md § Stale API socket).
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
