import { status } from '@grpc/grpc-js';

/**
 * A failed gobgpd call. The message says which RPC failed, on what, and why, e.g.
 *   GobgpError: AddPeer 192.168.1.1 failed: UNAVAILABLE: No connection established
 * `code` keeps the gRPC status code so callers can branch on it (UNAVAILABLE: retry later;
 * DEADLINE_EXCEEDED: gobgpd is stuck; UNKNOWN: gobgpd rejected the request, see `details`).
 */
export class GobgpError extends Error {
  override readonly name: string = 'GobgpError';
  constructor(
    readonly rpc: string,
    readonly subject: string | undefined,
    readonly code: status,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`${rpc}${subject ? ` ${subject}` : ''} failed: ${status[code] ?? code}: ${details}`, options);
  }

  get codeName(): string {
    return status[this.code] ?? String(this.code);
  }

  /** gobgpd refuses most calls until StartBgp ran ("bgp server hasn't started yet"). */
  get bgpNotStarted(): boolean {
    return /hasn't started yet|not started/i.test(this.details);
  }

  /** gobgpd's answer to adding a neighbor that exists ("can't overwrite the existing peer"). */
  get alreadyExists(): boolean {
    return this.code === status.ALREADY_EXISTS || /can't overwrite the existing peer|already exists/i.test(this.details);
  }

  /** The service or RPC does not exist on this gobgpd: it speaks another wire API version. */
  get unimplemented(): boolean {
    return this.code === status.UNIMPLEMENTED;
  }

  /** The neighbor or path is not there. */
  get notFound(): boolean {
    return this.code === status.NOT_FOUND || /doesn't exist|can't find|not found/i.test(this.details);
  }
}

/** A request svcbgp refuses to build (invalid input). Thrown before anything is sent. */
export class GobgpRequestError extends Error {
  override readonly name = 'GobgpRequestError';
}

/**
 * gobgpd answers, but with another wire API than svcbgp was told to speak (--gobgp-api v3 against gobgpd 4.x,
 * or v4 against 3.x). Not an outage: the message says which API gobgpd speaks and what to set.
 */
export class GobgpApiMismatchError extends GobgpError {
  override readonly name = 'GobgpApiMismatchError';
  constructor(
    rpc: string,
    readonly configured: string,
    readonly served: string,
    address: string,
    options?: { cause?: unknown },
  ) {
    super(
      rpc,
      undefined,
      status.UNIMPLEMENTED,
      `gobgpd at ${address} speaks the ${served} API (gobgpd ${served === 'v4' ? '4.x' : '3.x'}), but svcbgp is set to ${configured}: ` +
        `set --gobgp-api ${served} (SVCBGP_GOBGP_API=${served}) or auto`,
      options,
    );
  }
}
