/**
 * What a JSON value must be for the log to keep it. JSON and JavaScript strings can hold two
 * things that are not Unicode text and that PostgreSQL refuses, so an append carrying them would
 * fail inside its transaction: the NUL character (`\u0000`, refused by jsonb and text columns)
 * and a lone UTF-16 surrogate (`"\ud800"`, refused by jsonb). Nesting is bounded as well: a
 * deeply nested value overflows the stack of every recursive reader (JSON.stringify among them).
 * Checked here, they are a client's mistake, named as such, instead of a database error.
 */

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string is not text the log can keep, or null when it is. */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  if (loneSurrogate.test(text)) return 'must be Unicode text: it contains a lone UTF-16 surrogate';
  return null;
}

/**
 * Why a parsed JSON value is not one the log can keep (a bad key or string anywhere in it, or
 * nesting deeper than `maxDepth` objects and arrays), or null when it is. Walks with a stack of
 * its own, so a value of any depth is checked without recursion.
 */
export function jsonValueProblem(value: unknown, maxDepth: number): string | null {
  const pending: { readonly value: unknown; readonly depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: current, depth } = next;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem !== null) return `a value ${problem}`;
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return `nests more than ${maxDepth} levels deep`;
    if (Array.isArray(current)) {
      for (const item of current as unknown[]) pending.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const [key, item] of Object.entries(current)) {
      const problem = textProblem(key);
      if (problem !== null) return `a key ${problem}`;
      pending.push({ value: item, depth: depth + 1 });
    }
  }
  return null;
}
