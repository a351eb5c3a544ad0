/**
 * Go's time.Duration text format ("30s", "2m", "1h2m3s", "1.5h", "300ms"), as Calico's BGPPeer
 * keepaliveTime / maxRestartTime use it (metav1.Duration). Returns seconds, or undefined if the text
 * is not a Go duration. Like Go, a bare "0" is accepted; other numbers need a unit.
 */
const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '') return undefined;
  const re = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/;
  let total = 0;
  while (rest !== '') {
    const m = re.exec(rest);
    if (!m || m[1] === undefined || m[2] === undefined || m[1] === '' || m[1] === '.') return undefined;
    total += Number(m[1]) * (UNIT_SECONDS[m[2]] ?? NaN);
    rest = rest.slice(m[0].length);
  }
  return Number.isFinite(total) ? sign * total : undefined;
}
