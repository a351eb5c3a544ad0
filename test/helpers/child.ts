import { execFile } from 'node:child_process';

/**
 * Runs an ES module script in a fresh Node process and returns its exit code and output. For failures that no
 * try/catch sees: a V8 fatal error aborts the process, and reproduces reliably only from a fresh one.
 */
export function runScript(script: string, timeoutMs = 60_000): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number | string }).code ?? (err as { signal?: string }).signal ?? -1) : 0;
      resolve({ code: code as number | string, stdout, stderr });
    });
  });
}
