/** Measured numbers of the lab suites: printed as one greppable line each (`[lab-metric]`), never asserted. */
export function metric(scope: string, what: string, value: number, detail = ''): void {
  process.stdout.write(`      [lab-metric] ${scope}: ${what} = ${value}${detail ? ` ${detail}` : ''}\n`);
}
