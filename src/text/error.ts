/**
 * The one way svcbgp turns a caught value into text for a log field, a status document or a message.
 * `withCause`: append the cause's message too ("GetBgp failed: ...: connect ECONNREFUSED"), for reports that show
 * one line per failure and want the lowest-level reason in it.
 */
export function errorText(err: unknown, opts: { withCause?: boolean } = {}): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } } | null | undefined;
  const msg = err instanceof Error ? err.message : typeof e?.message === 'string' && opts.withCause ? e.message : String(err);
  return opts.withCause && typeof e?.cause?.message === 'string' ? `${msg}: ${e.cause.message}` : msg;
}

/** A caught value as an Error (a callback that promises an Error gets one). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
