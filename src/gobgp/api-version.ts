/**
 * The one place that decides which gobgpd wire API svcbgp speaks. gobgpd 3.x (Debian's 3.10 up to 3.37)
 * serves only v3 (package apipb, service GobgpApi); gobgpd 4.x serves only v4 (package api, service
 * GoBgpService). Neither has reflection or a version RPC, so `auto` probes the v4 service's GetBgp:
 * UNIMPLEMENTED ("unknown service api.GoBgpService") means v3, any answer from the service means v4, and
 * no answer at all means gobgpd is unreachable (nothing is decided then). The client (client.ts) probes on
 * connect and again whenever gobgpd was unreachable or answers UNIMPLEMENTED, so an upgrade from 3.x to 4.x
 * between two gobgpd restarts is followed without restarting svcbgp.
 */
import * as grpc from '@grpc/grpc-js';
import type { WireCodec } from './codec.js';
import { GobgpError } from './errors.js';
import type { ApiChoice, ApiVersion } from './types.js';
import { V3Codec } from './v3/codec.js';
import { V4Codec } from './v4/codec.js';

export const DEFAULT_API_CHOICE: ApiChoice = 'auto';

/** The probe: an empty GetBgpRequest (both versions' GetBgpRequest is empty: zero bytes on the wire). */
export const V4_PROBE_PATH = '/api.GoBgpService/GetBgp';

export function createCodec(version: ApiVersion): WireCodec {
  switch (version) {
    case 'v3':
      return new V3Codec();
    case 'v4':
      return new V4Codec();
    default: {
      const unsupported: never = version;
      throw new Error(`unsupported gobgpd API version ${String(unsupported)}`);
    }
  }
}

export function parseApiChoice(text: string): ApiChoice | undefined {
  return text === 'auto' || text === 'v3' || text === 'v4' ? text : undefined;
}

/** The gRPC status codes that mean "nobody answered" rather than "the server said something". */
const NO_ANSWER = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);

/** True when a failed call reached no gobgpd at all (socket missing, refused, timed out). */
export function isNoAnswer(code: grpc.status): boolean {
  return NO_ANSWER.has(code);
}

/**
 * Which API the gobgpd behind `channel` serves. Rejects with a GobgpError (rpc "detect-api") when it does not
 * answer; never guesses.
 */
export function detectApiVersion(channel: grpc.Client, deadlineMs: number): Promise<ApiVersion> {
  return new Promise((resolve, reject) => {
    channel.makeUnaryRequest(
      V4_PROBE_PATH,
      () => Buffer.alloc(0),
      (b: Buffer) => b,
      {},
      new grpc.Metadata(),
      { deadline: new Date(Date.now() + deadlineMs) },
      (err) => {
        if (!err) resolve('v4');
        else if (err.code === grpc.status.UNIMPLEMENTED) resolve('v3');
        else if (isNoAnswer(err.code)) reject(new GobgpError('detect-api', V4_PROBE_PATH, err.code, err.details || err.message, { cause: err }));
        // The v4 service exists and refused this call for another reason (e.g. BGP not started): v4.
        else resolve('v4');
      },
    );
  });
}
