/**
 * Golden files: a large text output (a report, a routing table) kept in test/golden/<name>.golden and compared
 * whole, so a change to it is reviewed as a diff of the file rather than read out of scattered `contain`
 * assertions. The idea is MetalLB's (internal/bgp/frr/testdata/*.golden with an update flag).
 *
 *   expectGolden('explain/cluster-ips-node-1', text)
 *
 * compares `text` with test/golden/explain/cluster-ips-node-1.golden. With SVCBGP_UPDATE_GOLDEN=1 in the
 * environment it writes the file instead (the test passes and says so); `git diff test/golden` then shows what
 * changed, for review. A missing golden file fails, naming the flag: a new golden is written on purpose, never
 * by a test run that happened to find nothing to compare with. docs/testing.md#golden-files has the workflow.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssertionError } from 'chai';

export const UPDATE_GOLDEN_ENV = 'SVCBGP_UPDATE_GOLDEN';

/** Lines of context around each change in a mismatch's diff. */
const CONTEXT_LINES = 3;
/** A diff longer than this is cut (the first changes are what a reader needs; the update flag shows the rest). */
const MAX_DIFF_LINES = 200;

/**
 * The repository root: the first directory upwards holding package.json. Tests run compiled from dist/test/...,
 * so a fixed number of `..` would depend on where this file is compiled to.
 */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** test/golden/<name>.golden, from the repository root. */
export function goldenPath(name: string, root = repoRoot()): string {
  if (name === '' || name.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`golden name "${name}": use a relative path of plain names, like "explain/cluster-ips-node-1"`);
  }
  return join(root, 'test', 'golden', `${name}.golden`);
}

export type GoldenOutcome = 'matched' | 'updated';

/**
 * Compares `actual` with the golden file at `path`, or writes it when `update` is set. Throws an AssertionError
 * on a mismatch (with a unified diff of the lines) or a missing file (naming the update flag).
 */
export function checkGolden(path: string, actual: string, update: boolean): GoldenOutcome {
  if (update) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return 'updated';
  }
  const shown = displayPath(path);
  if (!existsSync(path)) {
    throw new AssertionError(`golden file ${shown} does not exist: run the test with ${UPDATE_GOLDEN_ENV}=1 to write it, then review and commit it`);
  }
  const expected = readFileSync(path, 'utf8');
  if (expected === actual) return 'matched';
  throw new AssertionError(
    [
      `output differs from golden file ${shown} (- golden, + actual):`,
      unifiedDiff(expected, actual),
      `If the change is intended: rerun with ${UPDATE_GOLDEN_ENV}=1 and review \`git diff ${shown}\`.`,
    ].join('\n'),
  );
}

/** The golden check of a test: compares with test/golden/<name>.golden, or writes it under SVCBGP_UPDATE_GOLDEN=1. */
export function expectGolden(name: string, actual: string): void {
  const path = goldenPath(name);
  if (checkGolden(path, actual, process.env[UPDATE_GOLDEN_ENV] === '1') === 'updated') {
    process.stdout.write(`      [golden] updated ${displayPath(path)}\n`);
  }
}

function displayPath(path: string): string {
  try {
    return relative(repoRoot(), path);
  } catch {
    return path;
  }
}

type Edit = { op: ' ' | '-' | '+'; line: string };

/**
 * A unified diff of two texts by lines ("@@ -a,n +b,m @@" hunks with CONTEXT_LINES of context). The longest common
 * subsequence is computed in full: golden files are hundreds of lines, not megabytes.
 */
export function unifiedDiff(expected: string, actual: string): string {
  const a = splitLines(expected);
  const b = splitLines(actual);
  const edits = lineEdits(a, b);
  const out: string[] = [];
  // Walk the edits, opening a hunk at the first change and closing it after CONTEXT_LINES unchanged lines.
  let i = 0;
  const lineA: number[] = [];
  const lineB: number[] = [];
  for (let na = 0, nb = 0; i < edits.length; i++) {
    lineA.push(na);
    lineB.push(nb);
    if (edits[i]!.op !== '+') na++;
    if (edits[i]!.op !== '-') nb++;
  }
  for (let k = 0; k < edits.length; ) {
    if (edits[k]!.op === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - CONTEXT_LINES);
    let end = k;
    let unchanged = 0;
    while (end < edits.length && unchanged <= 2 * CONTEXT_LINES) {
      unchanged = edits[end]!.op === ' ' ? unchanged + 1 : 0;
      end++;
    }
    end -= Math.max(0, unchanged - CONTEXT_LINES);
    const hunk = edits.slice(start, end);
    const countA = hunk.filter((e) => e.op !== '+').length;
    const countB = hunk.filter((e) => e.op !== '-').length;
    out.push(`@@ -${lineA[start]! + (countA > 0 ? 1 : 0)},${countA} +${lineB[start]! + (countB > 0 ? 1 : 0)},${countB} @@`);
    for (const e of hunk) out.push(`${e.op}${e.line}`);
    k = end;
  }
  if (out.length > MAX_DIFF_LINES) return [...out.slice(0, MAX_DIFF_LINES), `... (${out.length - MAX_DIFF_LINES} more diff lines)`].join('\n');
  return out.join('\n');
}

/** Lines of a text; a missing final newline shows as its own marker line, as diff(1) does. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines.push('\\ No newline at end of file');
  return lines;
}

function lineEdits(a: readonly string[], b: readonly string[]): Edit[] {
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      edits.push({ op: ' ', line: a[i++]! });
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      edits.push({ op: '-', line: a[i++]! });
    } else {
      edits.push({ op: '+', line: b[j++]! });
    }
  }
  while (i < a.length) edits.push({ op: '-', line: a[i++]! });
  while (j < b.length) edits.push({ op: '+', line: b[j++]! });
  return edits;
}
