import type { Logger } from 'winston';
import type { SecretReader } from '../kube/secrets.js';
import { errorText } from '../text/error.js';

/**
 * Resolves BGP MD5 passwords (BGPPeer spec.password.secretKeyRef, a Secret in the agent's namespace): `get` only,
 * cached, re-read by `refresh()` on every drift pass. A Secret never read makes its peer "unresolved", left as gobgpd
 * has it; a read slower than `readTimeoutMs` counts as failed, so a partition cannot hold a pass. Values never reach a
 * log line (docs/design.md § Peer passwords).
 */
/** Linux's TCP_MD5SIG_MAXKEYLEN: a longer key cannot be set on the socket (RFC 2385 gives no limit; the kernel does). */
export const MAX_TCP_MD5_KEY_BYTES = 80;

/**
 * Why a Secret value cannot be a TCP-MD5 password, or undefined. An empty value would silently turn MD5 off for
 * the peer (gobgpd treats "" as "no password"), so it counts as unreadable, never as "no password".
 */
export function passwordProblem(value: string): string | undefined {
  if (value === '') return 'the value is empty: an empty password would turn TCP MD5 off for this peer';
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_TCP_MD5_KEY_BYTES) return `the value is ${bytes} bytes: longer than the TCP-MD5 key limit of ${MAX_TCP_MD5_KEY_BYTES} bytes`;
  return undefined;
}

export class PasswordResolver {
  private readonly cache = new Map<string, string>();
  private stale = new Set<string>();
  private readonly reported = new Map<string, string>();

  constructor(
    private readonly read: SecretReader,
    private readonly log: Logger,
    private readonly readTimeoutMs = 5_000,
  ) {}

  /** Mark every cached value for re-reading at its next use. */
  refresh(): void {
    this.stale = new Set(this.cache.keys());
  }

  async resolve(ref: { name: string; key: string }, peer: string): Promise<string | undefined> {
    const id = `${ref.name}/${ref.key}`;
    if (this.cache.has(id) && !this.stale.has(id)) return this.cache.get(id);
    try {
      const value = await this.readWithTimeout(ref);
      const problem = passwordProblem(value);
      if (problem !== undefined) throw new Error(`Secret ${ref.name} key "${ref.key}": ${problem}`);
      this.cache.set(id, value);
      this.stale.delete(id);
      if (this.reported.has(id)) this.log.info('BGP password Secret readable again', { peer, secret: ref.name, key: ref.key });
      this.reported.delete(id);
      return value;
    } catch (err) {
      const msg = errorText(err);
      if (this.reported.get(id) !== msg) {
        this.log.error(
          this.cache.has(id)
            ? 'cannot read BGP password Secret; keeping the last known password'
            : 'cannot read BGP password Secret; leaving this peer as gobgpd has it',
          { peer, secret: ref.name, key: ref.key, error: msg },
        );
        this.reported.set(id, msg);
      }
      return this.cache.get(id);
    }
  }

  private async readWithTimeout(ref: { name: string; key: string }): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Secret ${ref.name}: no answer from the API server within ${this.readTimeoutMs} ms`)), this.readTimeoutMs);
    });
    try {
      return await Promise.race([this.read(ref.name, ref.key), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
