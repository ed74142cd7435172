/**
 * The syntax of phrase patterns (see ./pattern.ts): parsed into a tree of character tests, assertions,
 * sequences, alternatives and bounded repeats. Refuses, with `PatternError` saying where, whatever needs
 * backtracking (backreferences, lookarounds) or is unbounded in size (repeat counts above `MAX_REPEAT`).
 */

export const MAX_REPEAT = 20;

export class PatternError extends Error {}

export type Test = (c: string) => boolean;
export type Assert = (text: string, i: number) => boolean;

export type Ast =
  | { t: 'char'; test: Test }
  | { t: 'assert'; test: Assert }
  | { t: 'cat'; items: Ast[] }
  | { t: 'alt'; options: Ast[] }
  | { t: 'repeat'; node: Ast; min: number; max: number };

const WORD = /[\p{L}\p{N}_]/u;
/** ASCII answered by code (the common case, at every position a `\b` is tried), the rest by Unicode class. */
function isWord(c: string | undefined): boolean {
  if (c === undefined) return false;
  const code = c.charCodeAt(0);
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || code === 95;
  return WORD.test(c);
}
const DIGIT: Test = (c) => c >= '0' && c <= '9';
const SPACE: Test = (c) => /\s/.test(c);
const CLASS_ESCAPES: Record<string, Test> = { d: DIGIT, w: isWord, s: SPACE };

export function parse(source: string): Ast {
  let pos = 0;
  const peek = () => source[pos];
  const fail = (what: string): never => {
    throw new PatternError(`${what} at position ${pos + 1}`);
  };

  function escape(inClass: boolean): Test | 'boundary' {
    const c = source[pos++];
    if (c === undefined) return fail('pattern ends with a backslash');
    const cls = CLASS_ESCAPES[c];
    if (cls) return cls;
    if (c === 'b' && !inClass) return 'boundary';
    if (/[A-Za-z0-9]/.test(c)) return fail(`unsupported escape \\${c}`);
    const lower = c.toLowerCase();
    return (x) => x === lower;
  }

  function charClass(): Test {
    const negate = peek() === '^';
    if (negate) pos++;
    const parts: Test[] = [];
    let first = true;
    while (peek() !== ']' || first) {
      first = false;
      let c = source[pos++];
      if (c === undefined) return fail('unclosed [');
      if (c === '\\') {
        const t = escape(true);
        if (t !== 'boundary') parts.push(t);
        continue;
      }
      if (peek() === '-' && source[pos + 1] !== undefined && source[pos + 1] !== ']') {
        pos++;
        let hi = source[pos++] as string;
        if (hi === '\\') hi = source[pos++] ?? fail('pattern ends with a backslash');
        if (hi < c) return fail('range out of order');
        const lo = c;
        parts.push((x) => (x >= lo && x <= hi) || (x.toUpperCase() >= lo && x.toUpperCase() <= hi));
        continue;
      }
      c = c.toLowerCase();
      const lit = c;
      parts.push((x) => x === lit);
    }
    pos++;
    return negate ? (x) => !parts.some((p) => p(x)) : (x) => parts.some((p) => p(x));
  }

  function atom(): Ast {
    const c = source[pos++] as string;
    switch (c) {
      case '(': {
        if (source.startsWith('?:', pos)) pos += 2;
        else if (peek() === '?') fail('lookarounds and named groups are not supported');
        const inner = alternation();
        if (source[pos++] !== ')') fail('unclosed (');
        return inner;
      }
      case '[':
        return { t: 'char', test: charClass() };
      case '.':
        return { t: 'char', test: () => true };
      case '^':
        return { t: 'assert', test: (_text, i) => i === 0 };
      case '$':
        return { t: 'assert', test: (text, i) => i === text.length };
      case '\\': {
        const t = escape(false);
        return t === 'boundary' ? { t: 'assert', test: (text, i) => isWord(text[i - 1]) !== isWord(text[i]) } : { t: 'char', test: t };
      }
      case ')':
        return fail('unmatched )');
      case '*':
      case '+':
      case '?':
      case '{':
        return fail(`nothing to repeat before ${c}`);
      default: {
        const lit = c.toLowerCase();
        return { t: 'char', test: (x) => x === lit };
      }
    }
  }

  function repeatOf(node: Ast): Ast {
    for (;;) {
      const c = peek();
      let min: number;
      let max: number;
      if (c === '*' || c === '+' || c === '?') {
        pos++;
        [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
      } else if (c === '{') {
        const m = /^\{(\d{1,2})(,(\d{0,2}))?\}/.exec(source.slice(pos));
        if (!m) return fail('a repeat is {n}, {n,} or {n,m}');
        pos += m[0].length;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] ? Number(m[3]) : Infinity;
        if (min > MAX_REPEAT || (max !== Infinity && (max > MAX_REPEAT || max < min))) fail(`repeat counts go up to ${MAX_REPEAT}, n <= m`);
      } else return node;
      node = { t: 'repeat', node, min, max };
    }
  }

  function sequence(): Ast {
    const items: Ast[] = [];
    while (pos < source.length && peek() !== '|' && peek() !== ')') items.push(repeatOf(atom()));
    return { t: 'cat', items };
  }

  function alternation(): Ast {
    const options = [sequence()];
    while (peek() === '|') {
      pos++;
      options.push(sequence());
    }
    return options.length === 1 ? (options[0] as Ast) : { t: 'alt', options };
  }

  const ast = alternation();
  if (pos < source.length) fail('unmatched )');
  return ast;
}
