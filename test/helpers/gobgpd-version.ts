/**
 * Which gobgpd the tests and the lab run: SVCBGP_GOBGPD=3.10|3.37|4.8|4.9 (default 3.10).
 *
 *   3.10  Debian's gobgpd/gobgp (/usr/bin), API v3
 *   3.37  github.com/osrg/gobgp/v3 v3.37.0, API v3   } built by scripts/build-gobgpd.sh into
 *   4.8   github.com/osrg/gobgp/v4 v4.8.0,  API v4   } /var/cache/svcbgp/gobgpd-<module version>/bin
 *   4.9   github.com/osrg/gobgp/v4 v4.9.0,  API v4   } (4.9: the newest, the one the image carries)
 *
 * GOBGPD_BIN / GOBGP_BIN still override the binaries (they then win over SVCBGP_GOBGPD).
 * A version that is not built fails loudly with the command that builds it: a matrix run must never quietly
 * test another version than the one it names.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface GobgpdVersion {
  /** Short name as in SVCBGP_GOBGPD and `scripts/lab.sh --gobgpd`. */
  name: string;
  /** The wire API it serves. */
  api: 'v3' | 'v4';
  /**
   * Whether it has gobgpd's Prometheus metrics server and its --metrics-path flag (gobgpd >= 3.14: 3.14.0's
   * cmd/gobgpd/main.go adds both; 3.10 rejects the flag).
   */
  metricsServer: boolean;
  gobgpd: string;
  gobgp: string;
}

export const GOBGPD_VERSIONS: Record<string, { module?: string; api: 'v3' | 'v4'; metricsServer: boolean }> = {
  '3.10': { api: 'v3', metricsServer: false },
  '3.37': { module: 'v3.37.0', api: 'v3', metricsServer: true },
  '4.8': { module: 'v4.8.0', api: 'v4', metricsServer: true },
  '4.9': { module: 'v4.9.0', api: 'v4', metricsServer: true },
};

export const DEFAULT_GOBGPD_VERSION = '3.10';

/** The newest v4 of the matrix, the one the image carries (scripts/test-all.sh). */
export const NEWEST_V4 = '4.9';

/**
 * The v4 that tests running both API lines side by side start, whatever the node under test is: SVCBGP_GOBGPD's
 * own when it is a v4 (each v4 leg of the matrix then checks its version), else the newest.
 */
export function sideBySideV4(): string {
  const name = process.env.SVCBGP_GOBGPD || DEFAULT_GOBGPD_VERSION;
  return GOBGPD_VERSIONS[name]?.api === 'v4' ? name : NEWEST_V4;
}

export function gobgpdVersion(name = process.env.SVCBGP_GOBGPD || DEFAULT_GOBGPD_VERSION): GobgpdVersion {
  const v = GOBGPD_VERSIONS[name];
  if (!v) {
    throw new Error(`SVCBGP_GOBGPD=${name}: unknown gobgpd version; known: ${Object.keys(GOBGPD_VERSIONS).join(', ')}`);
  }
  const dir = v.module ? path.join(process.env.SVCBGP_CACHE ?? '/var/cache/svcbgp', `gobgpd-${v.module}`, 'bin') : '/usr/bin';
  const gobgpd = process.env.GOBGPD_BIN ?? path.join(dir, 'gobgpd');
  const gobgp = process.env.GOBGP_BIN ?? path.join(dir, 'gobgp');
  if (!process.env.GOBGPD_BIN && !existsSync(gobgpd)) {
    throw new Error(`gobgpd ${name} is not built (${gobgpd} missing): run scripts/build-gobgpd.sh ${name}`);
  }
  return { name, api: v.api, metricsServer: v.metricsServer, gobgpd, gobgp };
}
