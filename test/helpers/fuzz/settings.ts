import fc from 'fast-check';

/**
 * How the fuzz suite runs. In CI: a fixed seed, a fixed number of inputs per property (so a run is
 * reproducible and a failure prints the seed and path that replays it), and a time budget per property as a
 * safety net on a slow machine (an interrupted run passes with fewer inputs; it never fails on time).
 * A longer run: `SVCBGP_FUZZ_RUNS=100000 npm run test:fuzz`
 * (add SVCBGP_FUZZ_SEED=<n> for other inputs, SVCBGP_FUZZ_BUDGET_MS=0 for no time budget).
 */
const RUNS = Number(process.env.SVCBGP_FUZZ_RUNS ?? '') || undefined;
const SEED = Number(process.env.SVCBGP_FUZZ_SEED ?? '') || 20261202;
const BUDGET_MS = process.env.SVCBGP_FUZZ_BUDGET_MS !== undefined ? Number(process.env.SVCBGP_FUZZ_BUDGET_MS) : RUNS ? 0 : 5000;

/**
 * Parameters for one property: `ciRuns` inputs in CI, SVCBGP_FUZZ_RUNS when set — divided by `costPerRun`
 * for a property that costs much more per input (the compiled CLI: one process per input).
 */
export function fuzzParams<T>(ciRuns: number, costPerRun = 1): fc.Parameters<T> {
  return {
    seed: SEED,
    numRuns: RUNS ? Math.max(ciRuns, Math.ceil(RUNS / costPerRun)) : ciRuns,
    ...(BUDGET_MS > 0 ? { interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false } : {}),
  };
}

/** Runs a property, fails with fast-check's report (seed, path, counterexample), prints how many inputs it tried. */
export function fuzz<T>(name: string, property: fc.IProperty<T>, ciRuns: number, costPerRun = 1): void {
  const out = fc.check(property, fuzzParams<T>(ciRuns, costPerRun));
  if (out.failed) throw new Error(fc.defaultReportMessage(out) ?? `${name}: property failed`);
  console.log(`      fuzz ${name}: ${out.numRuns} inputs${out.interrupted ? ' (time budget reached)' : ''}, seed ${SEED}`);
}

export async function fuzzAsync<T>(name: string, property: fc.IAsyncProperty<T>, ciRuns: number, costPerRun = 1): Promise<void> {
  const out = await fc.check(property, fuzzParams<T>(ciRuns, costPerRun));
  if (out.failed) throw new Error(fc.defaultReportMessage(out) ?? `${name}: property failed`);
  console.log(`      fuzz ${name}: ${out.numRuns} inputs${out.interrupted ? ' (time budget reached)' : ''}, seed ${SEED}`);
}
