import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

function run(file: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { timeout: 30000 }, (err, stdout) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout });
    });
  });
}

describe('svcbgp entry point', function () {
  this.timeout(60000);

  it('prints its commands when run directly', async () => {
    const r = await run(MAIN, ['--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('run [options]').and.to.contain('explain');
  });

  it('also runs through a symlink, as an npm bin link or /usr/local/bin/svcbgp is (it used to print nothing)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'svcbgp-bin-'));
    try {
      const link = join(dir, 'svcbgp');
      await symlink(MAIN, link);
      const r = await run(link, ['--help']);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.contain('Usage: svcbgp');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
