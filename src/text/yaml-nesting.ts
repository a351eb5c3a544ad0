/**
 * A cheap look at YAML text before the YAML library sees it. Nesting about 1,000 levels deep (flow `[[[...`
 * or block `- - - ...` / deeper and deeper indentation) overflows the stack of the `yaml` package's parser;
 * it reports that as a syntax error the first time, but a second such parse in the same process aborted
 * Node 20 on this machine with "FATAL ERROR: RegExpCompiler Allocation failed - process out of memory", which
 * no try/catch survives. Kubernetes objects and Calico documents nest a dozen levels, so far lower limits
 * cost nothing and keep every parse away from the stack limit.
 */

/** Deepest flow nesting ([ and { not yet closed, outside quoted scalars) accepted. */
export const MAX_FLOW_DEPTH = 64;
/** Widest block indentation accepted, in columns (including "- " sequence indicators on the line). */
export const MAX_INDENT_COLUMNS = 256;

/** Why the text is nested too deeply to hand to the YAML library, or undefined. Linear, never throws. */
export function yamlNestingProblem(text: string): string | undefined {
  let depth = 0;
  let line = 1;
  let quote: '"' | "'" | undefined;
  let atLineStart = true;
  let column = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      atLineStart = true;
      column = 0;
      continue;
    }
    if (atLineStart) {
      // Leading spaces and "- " / "? " / ": " indicators: how deep this line starts in block structure.
      if (c === ' ' || ((c === '-' || c === '?' || c === ':') && (text[i + 1] === ' ' || text[i + 1] === '\n' || i + 1 === text.length))) {
        column++;
        if (column > MAX_INDENT_COLUMNS) return `line ${line} is indented more than ${MAX_INDENT_COLUMNS} columns (nesting limit)`;
        continue;
      }
      atLineStart = false;
    }
    if (quote !== undefined) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") {
      // A quote starts a quoted scalar only at the start of a token (not inside a plain scalar like don't).
      const prev = text[i - 1];
      if (prev === undefined || ' \t[{,:-?\n'.includes(prev)) quote = c;
    } else if (c === '#' && (text[i - 1] === ' ' || text[i - 1] === '\t' || text[i - 1] === '\n' || i === 0)) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '[' || c === '{') {
      depth++;
      if (depth > MAX_FLOW_DEPTH) return `line ${line}: [ and { nested more than ${MAX_FLOW_DEPTH} deep (nesting limit)`;
    } else if ((c === ']' || c === '}') && depth > 0) {
      depth--;
    }
  }
  return undefined;
}
