/**
 * The one place that decides which gobgpd wire API svcbgp speaks. Debian's gobgpd 3.10 (and every 3.x
 * up to 3.37) serves v3 (package apipb, service GobgpApi). gobgpd 4.x serves v4 (package api, service
 * GoBgpService) with a different wire format: supporting it means adding src/gobgp/v4/codec.ts and a
 * case below; callers of connectGobgp() do not change.
 */
import type { WireCodec } from './codec.js';
import type { ApiVersion } from './types.js';
import { V3Codec } from './v3/codec.js';

export const DEFAULT_API_VERSION: ApiVersion = 'v3';

export function createCodec(version: ApiVersion = DEFAULT_API_VERSION): WireCodec {
  switch (version) {
    case 'v3':
      return new V3Codec();
    default: {
      const unsupported: never = version;
      throw new Error(`unsupported gobgpd API version ${String(unsupported)}`);
    }
  }
}
