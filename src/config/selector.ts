import { escapeControls } from '../text/escape.js';

/**
 * A subset of Calico's label selector language, for BGPPeer.spec.nodeSelector.
 *
 * Supported: all(), has(k), !has(k), k == 'v', k != 'v', k in {'a','b'}, k not in {'a','b'},
 * &&, ||, !, parentheses; values in single or double quotes. Semantics follow Calico's docs:
 * `k != 'v'` and `k not in {...}` also match nodes that do not have label k.
 * Anything else (contains, starts with, ends with, global(), ...) is rejected with a message saying what is supported.
 */
export type Selector =
  | { op: 'all' }
  | { op: 'has'; key: string }
  | { op: 'eq' | 'ne'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'not'; arg: Selector }
  | { op: 'and' | 'or'; args: Selector[] };

export const SELECTOR_SUPPORTED = "all(), has(k), k == 'v', k != 'v', k in {'a','b'}, k not in {'a','b'}, &&, ||, !, ( )";

export class SelectorError extends Error {}

/**
 * Limits, so that no selector can exhaust the stack (the parser and matchSelector recurse per nesting level):
 * the CRD's maxLength for spec.nodeSelector, and a nesting depth far beyond any real selector.
 */
export const MAX_SELECTOR_LENGTH = 1024;
export const MAX_SELECTOR_DEPTH = 32;

type Token = { t: 'ident'; v: string; pos: number } | { t: 'str'; v: string; pos: number } | { t: 'sym'; v: string; pos: number } | { t: 'end'; pos: number };

const KEY_RE = /^[A-Za-z0-9_./-]+/;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '&&', '||'].includes(two)) {
      out.push({ t: 'sym', v: two, pos: i });
      i += 2;
      continue;
    }
    if ('!(){},'.includes(c)) {
      out.push({ t: 'sym', v: c, pos: i });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new SelectorError(`unterminated string starting at position ${i + 1}`);
      out.push({ t: 'str', v: src.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    const m = KEY_RE.exec(src.slice(i));
    if (m) {
      out.push({ t: 'ident', v: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    throw new SelectorError(`unexpected character '${escapeControls(c)}' at position ${i + 1}`);
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.i] as Token;
  }
  private next(): Token {
    return this.toks[this.i++] as Token;
  }
  private isSym(v: string): boolean {
    const t = this.peek();
    return t.t === 'sym' && t.v === v;
  }
  private expectSym(v: string): void {
    const t = this.next();
    if (t.t !== 'sym' || t.v !== v) throw new SelectorError(`expected '${v}' at position ${t.pos + 1}`);
  }
  private expectStr(): string {
    const t = this.next();
    if (t.t !== 'str') throw new SelectorError(`expected a quoted value at position ${t.pos + 1}`);
    return t.v;
  }

  parse(): Selector {
    const s = this.or();
    const t = this.peek();
    if (t.t !== 'end') throw new SelectorError(`unexpected ${describe(t)} at position ${t.pos + 1}`);
    return s;
  }
  private or(): Selector {
    const args = [this.and()];
    while (this.isSym('||')) {
      this.next();
      args.push(this.and());
    }
    return args.length === 1 ? (args[0] as Selector) : { op: 'or', args };
  }
  private and(): Selector {
    const args = [this.unary()];
    while (this.isSym('&&')) {
      this.next();
      args.push(this.unary());
    }
    return args.length === 1 ? (args[0] as Selector) : { op: 'and', args };
  }
  private nested<T>(pos: number, f: () => T): T {
    if (++this.depth > MAX_SELECTOR_DEPTH) {
      throw new SelectorError(`nested more than ${MAX_SELECTOR_DEPTH} levels deep at position ${pos + 1} (the limit)`);
    }
    try {
      return f();
    } finally {
      this.depth--;
    }
  }
  private unary(): Selector {
    if (this.isSym('!')) {
      const t = this.next();
      return this.nested(t.pos, () => ({ op: 'not', arg: this.unary() }));
    }
    return this.primary();
  }
  private primary(): Selector {
    if (this.isSym('(')) {
      const t = this.next();
      return this.nested(t.pos, () => {
        const s = this.or();
        this.expectSym(')');
        return s;
      });
    }
    const t = this.next();
    if (t.t !== 'ident') throw new SelectorError(`unexpected ${describe(t)} at position ${t.pos + 1}`);
    if ((t.v === 'all' || t.v === 'has') && this.isSym('(')) {
      this.next();
      if (t.v === 'all') {
        this.expectSym(')');
        return { op: 'all' };
      }
      const k = this.next();
      if (k.t !== 'ident') throw new SelectorError(`expected a label key in has() at position ${k.pos + 1}`);
      this.expectSym(')');
      return { op: 'has', key: k.v };
    }
    if (this.isSym('(')) throw new SelectorError(`unsupported function '${t.v}()' at position ${t.pos + 1}`);
    const key = t.v;
    const op = this.next();
    if (op.t === 'sym' && (op.v === '==' || op.v === '!=')) {
      return { op: op.v === '==' ? 'eq' : 'ne', key, value: this.expectStr() };
    }
    if (op.t === 'ident' && op.v === 'in') return { op: 'in', key, values: this.set() };
    if (op.t === 'ident' && op.v === 'not') {
      const n = this.next();
      if (n.t === 'ident' && n.v === 'in') return { op: 'notin', key, values: this.set() };
      throw new SelectorError(`expected 'in' after 'not' at position ${n.pos + 1}`);
    }
    throw new SelectorError(`unsupported operator ${describe(op)} after '${key}' at position ${op.pos + 1}`);
  }
  private set(): string[] {
    this.expectSym('{');
    const values: string[] = [];
    if (this.isSym('}')) {
      this.next();
      return values;
    }
    values.push(this.expectStr());
    while (this.isSym(',')) {
      this.next();
      values.push(this.expectStr());
    }
    this.expectSym('}');
    return values;
  }
}

function describe(t: Token): string {
  if (t.t === 'end') return 'end of selector';
  if (t.t === 'str') return `string '${escapeControls(t.v)}'`;
  return `'${escapeControls(t.v)}'`;
}

/** Parses a selector; throws SelectorError with a position and what went wrong. */
export function parseSelector(src: string): Selector {
  if (src.trim() === '') throw new SelectorError('empty selector (use all() to select every node)');
  if (src.length > MAX_SELECTOR_LENGTH) throw new SelectorError(`${src.length} characters: longer than the limit of ${MAX_SELECTOR_LENGTH}`);
  return new Parser(tokenize(src)).parse();
}

export function matchSelector(s: Selector, labels: Readonly<Record<string, string>>): boolean {
  const has = (k: string): boolean => Object.hasOwn(labels, k);
  switch (s.op) {
    case 'all':
      return true;
    case 'has':
      return has(s.key);
    case 'eq':
      return has(s.key) && labels[s.key] === s.value;
    case 'ne':
      return !has(s.key) || labels[s.key] !== s.value;
    case 'in':
      return has(s.key) && s.values.includes(labels[s.key] as string);
    case 'notin':
      return !has(s.key) || !s.values.includes(labels[s.key] as string);
    case 'not':
      return !matchSelector(s.arg, labels);
    case 'and':
      return s.args.every((a) => matchSelector(a, labels));
    case 'or':
      return s.args.some((a) => matchSelector(a, labels));
  }
}
