import { isCidr, parseCidr, parseIp, type ParsedCidr } from './net.js';
import { YamlNumber } from './yaml.js';
import { calicoFieldProblems, type FieldCheck } from './calico-fields.js';
import { render, reportProblems, type Messages } from './messages.js';
import type { DocRef } from './types.js';

/**
 * Readers of the fields both document kinds have (AS numbers, ports, CIDRs) and of the fields svcbgp does not read
 * itself. Each reports every problem it finds to `msgs` and returns undefined when the value cannot be used.
 */

export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A number YAML read from another form than a plain decimal integer: refused with what was written and what YAML
 * made of it (docs/design.md § YAML input). Returns true when it reported.
 */
export function refuseYamlNumber(msgs: Messages, ref: DocRef, path: string, v: unknown, hint: string): boolean {
  if (!(v instanceof YamlNumber)) return false;
  msgs.error(ref, path, v.source, `YAML reads this as the number ${String(v.value)}, which is probably not what was meant; ${hint}`);
  return true;
}

export function readAsNumber(msgs: Messages, ref: DocRef, path: string, v: unknown): number | undefined {
  const expected = 'expected an AS number 1..4294967295 (or asdot "a.b")';
  if (
    refuseYamlNumber(
      msgs,
      ref,
      path,
      v,
      /^[0-9]+\.[0-9]+$/.test(v instanceof YamlNumber ? v.source : '')
        ? `quote an asdot AS number ("${(v as YamlNumber).source}") or write it as a plain decimal integer`
        : 'write the AS number as a plain decimal integer, e.g. 64512',
    )
  )
    return undefined;
  let n: number | undefined;
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v)) n = Number(v);
  else if (typeof v === 'string' && /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/.test(v)) {
    const [hi, lo] = v.split('.').map(Number) as [number, number];
    if (hi > 65535 || lo > 65535) {
      msgs.error(ref, path, render(v), `${expected}; each half of an asdot number is 0..65535`);
      return undefined;
    }
    n = hi * 65536 + lo;
  }
  if (n === undefined) {
    msgs.error(ref, path, render(v), expected);
    return undefined;
  }
  if (n === 0) {
    msgs.error(ref, path, render(v), 'AS 0 is reserved (RFC 7607) and cannot be used; expected 1..4294967295');
    return undefined;
  }
  if (n < 0) {
    msgs.error(ref, path, render(v), `negative: ${expected}`);
    return undefined;
  }
  if (n > 4294967295) {
    msgs.error(ref, path, render(v), `out of range: ${expected}`);
    return undefined;
  }
  if (n === 23456) msgs.warn(ref, path, render(v), 'AS 23456 is AS_TRANS (RFC 6793), normally never configured');
  return n;
}

export function readPort(msgs: Messages, ref: DocRef, path: string, v: unknown): number | undefined {
  if (refuseYamlNumber(msgs, ref, path, v, 'write the port as a plain decimal integer 1..65535, e.g. 179')) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
  msgs.error(ref, path, render(v), 'expected a TCP port 1..65535');
  return undefined;
}

export function readCidrList(msgs: Messages, ref: DocRef, path: string, v: unknown): ParsedCidr[] | undefined {
  if (v === null || v === undefined) return []; // `serviceClusterIPs:` with no value = none
  if (!Array.isArray(v)) {
    msgs.error(ref, path, render(v), 'expected a list of {cidr: ...} entries, e.g. "- cidr: 10.49.0.0/16"');
    return undefined;
  }
  const out: ParsedCidr[] = [];
  let ok = true;
  v.forEach((item, i) => {
    const p = `${path}[${i}]`;
    if (typeof item === 'string') {
      const shown = render(item).slice(1, -1); // the value as written, escaped and cut like every echoed value
      msgs.error(ref, p, render(item), `expected a mapping {cidr: ${shown}}: write "- cidr: ${shown}"`);
      ok = false;
      return;
    }
    if (!isObject(item)) {
      msgs.error(ref, p, render(item), 'expected a mapping {cidr: ...}');
      ok = false;
      return;
    }
    for (const k of Object.keys(item)) if (k !== 'cidr') msgs.warn(ref, `${p}.${k}`, undefined, 'unknown field; ignored (an entry has only "cidr")');
    const c = readCidr(msgs, ref, `${p}.cidr`, item['cidr']);
    if (!c) {
      ok = false;
      return;
    }
    if (out.some((o) => o.cidr === c.cidr)) {
      msgs.warn(ref, `${p}.cidr`, render(item['cidr']), 'listed twice; the duplicate is ignored');
      return;
    }
    out.push(c);
  });
  return ok ? out : undefined;
}

export function readCidr(msgs: Messages, ref: DocRef, path: string, v: unknown): ParsedCidr | undefined {
  if (typeof v !== 'string') {
    msgs.error(ref, path, render(v), 'expected a CIDR string such as "10.49.0.0/16" or "fd00:49::/112"');
    return undefined;
  }
  const c = parseCidr(v);
  if (isCidr(c)) return c;
  if (c.kind === 'host-bits') {
    msgs.error(ref, path, render(v), `this is a host address, not a network: the bits after the prefix length must be zero; did you mean ${c.network}?`);
  } else if (parseIp(v)) {
    msgs.error(
      ref,
      path,
      render(v),
      `missing prefix length; write ${v}${v.includes(':') ? '/128' : '/32'} for a single address or the network, e.g. 10.49.0.0/16`,
    );
  } else {
    msgs.error(ref, path, render(v), 'not a valid CIDR; expected "address/length" such as "10.49.0.0/16" or "fd00:49::/112"');
  }
  return undefined;
}

/**
 * The fields of a spec svcbgp does not read itself: a Calico field gets what ./calico-fields.ts says of it
 * (accepted, warned by name, or refused), any other field an "unknown field" warning that lists the supported ones.
 */
export function checkOtherFields(msgs: Messages, ref: DocRef, spec: Obj, supported: ReadonlySet<string>, checks: Readonly<Record<string, FieldCheck>>): void {
  for (const [k, v] of Object.entries(spec)) {
    if (supported.has(k)) continue;
    if (Object.hasOwn(checks, k)) reportProblems(msgs, ref, { value: undefined, problems: calicoFieldProblems(k, v, checks) });
    else msgs.warn(ref, `spec.${k}`, undefined, `unknown field; ignored (supported: ${[...supported].join(', ')})`);
  }
}
