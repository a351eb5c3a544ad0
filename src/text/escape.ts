/**
 * Escaping of names and values that come from outside (Service and Node names, document names, addresses, labels)
 * before they are echoed into a line of text: a newline must not forge an `error:` line, an ANSI escape must not
 * rewrite a terminal, a bidi override must not reorder what a reader sees. Idempotent, so text escaped where it was
 * built may be escaped again where it is printed (docs/design.md § Text from outside).
 */

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** What JSON.stringify leaves raw (it escapes C0 in strings itself; the C0 left are its own indentation). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function hex(c: string, width: number): string {
  return (c.codePointAt(0) ?? 0).toString(16).padStart(width, '0');
}

/** The text with every control character written as a visible escape (`\n`, `\x1b`, `\u202e`). */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => SHORT[c] ?? ((c.codePointAt(0) ?? 0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/**
 * A value as it appears in a message: JSON-quoted (strings in quotes, objects as JSON), control characters
 * escaped, at most `max` characters (longer values end in "...": a message must stay one readable line).
 */
export function quoteValue(value: unknown, max = 80): string {
  let s: string;
  try {
    s = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  s = escapeControls(s);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/**
 * JSON text with the characters JSON.stringify leaves raw (DEL, C1, separators, bidi controls) written as
 * `\uXXXX` escapes: the same JSON value to every parser, harmless on a terminal.
 */
export function safeJson(value: unknown, indent?: number): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
