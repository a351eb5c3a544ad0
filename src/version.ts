import { readFileSync } from 'node:fs';

/** svcbgp's version, from package.json (dist/src/version.js -> ../../package.json), read once. */
export const SVCBGP_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();
