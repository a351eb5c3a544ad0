import { YamlNumber } from './yaml.js';
import { escapeControls, quoteValue } from '../text/escape.js';
import type { ReadResult } from './service-limits.js';
import type { ConfigMessage, DocRef } from './types.js';

/**
 * How a configuration message names what is wrong: the document, the field, the value as written and the fix,
 * on one line an operator can act on ("document 2 (BGPPeer \"tor-a\"): spec.peerIP = \"10.0.0\": expected ...").
 */

/** The errors and warnings found in one configuration, in the order found. */
export class Messages {
  readonly errors: ConfigMessage[] = [];
  readonly warnings: ConfigMessage[] = [];

  error(doc: DocRef, path: string, value: string | undefined, message: string): void {
    this.errors.push(configMessage(doc, path, value, message));
  }
  warn(doc: DocRef, path: string, value: string | undefined, message: string): void {
    this.warnings.push(configMessage(doc, path, value, message));
  }
}

/** A value echoed into a message: quoted, escaped and cut to 80 characters. */
export function render(v: unknown): string {
  // A YamlNumber is shown as written (unquoted: it was not a string in the YAML).
  return v instanceof YamlNumber ? quoteValue(v.source, 80).slice(1, -1) : quoteValue(v, 80);
}

/** The document a message is about: "document 2, item 1 (BGPPeer \"tor-a\")". */
export function where(ref: DocRef): string {
  if (ref.index === 0) return 'the configuration text';
  const pos = ref.item !== undefined ? `document ${ref.index}, item ${ref.item}` : `document ${ref.index}`;
  if (ref.kind && ref.name !== undefined) return `${pos} (${escapeControls(ref.kind)} ${quoteValue(ref.name, 80)})`;
  if (ref.kind) return `${pos} (${escapeControls(ref.kind)})`;
  return pos;
}

export function configMessage(doc: DocRef, path: string, value: string | undefined, message: string): ConfigMessage {
  const field = path ? `${path}${value !== undefined ? ` = ${value}` : ''}: ` : value !== undefined ? `${value}: ` : '';
  const m: ConfigMessage = { doc: { ...doc }, path, message, text: `${where(doc)}: ${field}${message}` };
  if (value !== undefined) m.value = value;
  return m;
}

/** Reports what a reader that returns its problems (./service-limits.ts, ./calico-fields.ts) found; returns its value. */
export function reportProblems<T>(msgs: Messages, ref: DocRef, r: ReadResult<T>): T | undefined {
  for (const p of r.problems) {
    const value = p.value === undefined ? undefined : render(p.value);
    if (p.severity === 'error') msgs.error(ref, p.path, value, p.message);
    else msgs.warn(ref, p.path, value, p.message);
  }
  return r.value;
}
