import { isScalar, parseAllDocuments, visit, type Document, type Scalar } from 'yaml';
import { yamlNestingProblem } from '../text/yaml-nesting.js';
import { errorText } from '../text/error.js';

/**
 * YAML text -> plain values, with explicit limits (size, documents, aliases, nesting); never throws. A number not
 * written as a plain decimal integer comes back as a YamlNumber so that readers can refuse it with what was written
 * (docs/design.md § YAML input).
 */
export const MAX_YAML_BYTES = 1024 * 1024;
export const MAX_YAML_DOCUMENTS = 1000;
export const MAX_YAML_ALIAS_COUNT = 100;
export const MAX_YAML_DEPTH = 64;

/** A number written in another form than a plain decimal integer ("1.0", "0x10", "1e3", "+5", ".inf"). */
export class YamlNumber {
  constructor(
    /** The text as written in the YAML. */
    readonly source: string,
    /** What YAML makes of it. */
    readonly value: number,
  ) {}
  // No toJSON on purpose: the yaml library's toJS() calls a value's toJSON and would turn this back into text.
}

export interface YamlDocuments {
  /** One value per document, in order (null for an empty document); only when there are no errors. */
  docs: unknown[];
  /** "document N: ..." messages (or a whole-text message without a document number). */
  errors: { index?: number; message: string }[];
}

const PLAIN_DECIMAL = /^-?(0|[1-9][0-9]*)$/;

export function parseYamlDocuments(text: string): YamlDocuments {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_YAML_BYTES) {
    return { docs: [], errors: [{ message: `the text is ${bytes} bytes: more than the limit of ${MAX_YAML_BYTES} bytes (1 MiB, a ConfigMap's maximum)` }] };
  }
  // Before the library sees it: ~1,000 levels of nesting overflow its parser, and a second such parse in one process
  // aborted Node (src/text/yaml-nesting.ts), which no try/catch survives.
  const nesting = yamlNestingProblem(text);
  if (nesting !== undefined) return { docs: [], errors: [{ message: `nested too deeply: ${nesting}` }] };
  let parsed: Document.Parsed[];
  try {
    parsed = parseAllDocuments(text, { uniqueKeys: true }) as Document.Parsed[];
    if (!Array.isArray(parsed)) parsed = [parsed];
  } catch (err) {
    // The library composes nested collections recursively: a hostile depth ends in a RangeError.
    const message =
      err instanceof RangeError
        ? `nested too deeply to parse (the limit is ${MAX_YAML_DEPTH} levels of mappings and lists)`
        : `cannot parse YAML: ${firstLine(err)}`;
    return { docs: [], errors: [{ message }] };
  }
  if (parsed.length > MAX_YAML_DOCUMENTS) {
    return { docs: [], errors: [{ message: `${parsed.length} documents: more than the limit of ${MAX_YAML_DOCUMENTS}` }] };
  }
  const docs: unknown[] = [];
  const errors: YamlDocuments['errors'] = [];
  parsed.forEach((d, i) => {
    const index = i + 1;
    if (d.errors.length > 0) {
      // With prettyErrors (the default) the first line reads "... at line 3, column 1:" (lines of the whole input).
      for (const e of d.errors) {
        const first = (e.message.split('\n')[0] ?? '').replace(/:$/, '');
        // The library reports its own stack overflow on hostile nesting as a document error.
        errors.push({
          index,
          message: /call stack/i.test(first)
            ? `nested too deeply to parse (the limit is ${MAX_YAML_DEPTH} levels of mappings and lists)`
            : `YAML syntax error: ${first}`,
        });
      }
      return;
    }
    try {
      if (depthOf(d.contents) > MAX_YAML_DEPTH) {
        errors.push({ index, message: `nested more than ${MAX_YAML_DEPTH} levels deep (the limit)` });
        return;
      }
      markNonDecimalNumbers(d);
      docs.push(d.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT }) as unknown);
    } catch (err) {
      const msg = firstLine(err);
      errors.push({
        index,
        message: /excessive alias/i.test(msg)
          ? `too many YAML aliases: expanding them would exceed the limit of ${MAX_YAML_ALIAS_COUNT} alias expansions (${msg})`
          : /unresolved alias/i.test(msg)
            ? `an alias refers to an anchor that is not defined before it (${msg})`
            : `cannot read this document: ${msg}`,
      });
    }
  });
  return { docs: errors.length > 0 ? [] : docs, errors };
}

/** Depth of nested collections, iteratively (no recursion: the input may be hostile). Aliases count as leaves. */
function depthOf(root: unknown): number {
  let max = 0;
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 1 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { node, depth } = top;
    if (node === null || typeof node !== 'object' || !('items' in node)) continue;
    if (depth > max) max = depth;
    if (max > MAX_YAML_DEPTH) return max;
    for (const item of (node as { items: unknown[] }).items) {
      if (item !== null && typeof item === 'object' && 'key' in item && 'value' in item) {
        stack.push({ node: (item as { key: unknown }).key, depth: depth + 1 }, { node: (item as { value: unknown }).value, depth: depth + 1 });
      } else {
        stack.push({ node: item, depth: depth + 1 });
      }
    }
  }
  return max;
}

function markNonDecimalNumbers(doc: Document.Parsed): void {
  visit(doc, {
    Scalar(_key, node: Scalar) {
      if (!isScalar(node) || typeof node.value !== 'number') return;
      const source = node.source ?? String(node.value);
      if (!PLAIN_DECIMAL.test(source)) node.value = new YamlNumber(source, node.value);
    },
  });
}

function firstLine(err: unknown): string {
  return errorText(err).split('\n')[0] ?? '';
}
