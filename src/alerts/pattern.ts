/**
 * Phrase patterns of alert rules: a small regular-expression syntax matched in linear time.
 *
 * Why not `RegExp`: JavaScript's engine backtracks, so a workspace's pattern such as `(a+)+$` run over a
 * caller's words could take exponential time, on the ingest path of every call. Why not RE2: it is a native
 * addon (a compiler at install, one more thing to build on every platform) for a feature that needs a fraction
 * of it. So a pattern is parsed here, compiled to a Thompson NFA and run by simulating every state at once:
 * the cost is at most (text length) x (states), whatever the pattern and the text. Patterns are bounded too
 * (`MAX_PATTERN_LENGTH` characters, `MAX_STATES` states, repeat counts up to `MAX_REPEAT`).
 *
 * Syntax (always case-insensitive, searched anywhere in the text): literals; `.`; classes `[abc]`, `[a-z]`,
 * `[^...]`; `\d \w \s` and escaped punctuation; `\b` (word boundary), `^`, `$`; groups `(...)` and `(?:...)`;
 * alternation `|`; repeats `* + ?`, `{n}`, `{n,}`, `{n,m}`. No backreferences or lookarounds: nothing that
 * needs backtracking.
 */

export const MAX_PATTERN_LENGTH = 200;
export const MAX_STATES = 400;
export const MAX_REPEAT = 20;

export class PatternError extends Error {}

type Test = (c: string) => boolean;
type Assert = (text: string, i: number) => boolean;

type Ast =
  | { t: 'char'; test: Test }
  | { t: 'assert'; test: Assert }
  | { t: 'cat'; items: Ast[] }
  | { t: 'alt'; options: Ast[] }
  | { t: 'repeat'; node: Ast; min: number; max: number };

type State =
  | { k: 'char'; test: Test; out: number }
  | { k: 'assert'; test: Assert; out: number }
  | { k: 'split'; out: number; out2: number }
  | { k: 'match' };

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

function parse(source: string): Ast {
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

/** Compiles back to front: each piece is built knowing the state that follows it. */
function compile(ast: Ast): { states: State[]; start: number } {
  const states: State[] = [{ k: 'match' }];
  const push = (s: State): number => {
    if (states.length >= MAX_STATES) throw new PatternError(`pattern too complex (more than ${MAX_STATES} states)`);
    return states.push(s) - 1;
  };
  const build = (node: Ast, next: number): number => {
    switch (node.t) {
      case 'char':
        return push({ k: 'char', test: node.test, out: next });
      case 'assert':
        return push({ k: 'assert', test: node.test, out: next });
      case 'cat':
        return node.items.reduceRight((acc, item) => build(item, acc), next);
      case 'alt':
        return node.options.map((o) => build(o, next)).reduceRight((acc, start) => push({ k: 'split', out: start, out2: acc }));
      case 'repeat': {
        let tail = next;
        if (node.max === Infinity) {
          const loop = push({ k: 'split', out: -1, out2: next });
          (states[loop] as { out: number }).out = build(node.node, loop);
          tail = loop;
        } else for (let i = node.min; i < node.max; i++) tail = push({ k: 'split', out: build(node.node, tail), out2: next });
        for (let i = 0; i < node.min; i++) tail = build(node.node, tail);
        return tail;
      }
    }
  };
  return { states, start: build(ast, 0) };
}

/**
 * The tests a match's first character must pass (assertions passed through), or null when a match can be
 * reached without consuming one (then every position is tried).
 */
function firstTests(states: readonly State[], start: number): Test[] | null {
  const tests: Test[] = [];
  const seen = new Set<number>();
  const walk = (s: number): boolean => {
    if (seen.has(s)) return true;
    seen.add(s);
    const state = states[s] as State;
    if (state.k === 'match') return false;
    if (state.k === 'split') return walk(state.out) && walk(state.out2);
    if (state.k === 'assert') return walk(state.out);
    tests.push(state.test);
    return true;
  };
  return walk(start) ? tests : null;
}

export interface Matcher {
  test(text: string): boolean;
  /** The same, for text already in lower case (several rules test one turn: it is lowered once). */
  testLower(lower: string): boolean;
}

/** Compiles a pattern; throws `PatternError` saying what is wrong. */
export function compilePattern(source: string): Matcher {
  if (source.length === 0 || source.length > MAX_PATTERN_LENGTH)
    throw new PatternError(`a pattern has 1 to ${MAX_PATTERN_LENGTH} characters`);
  const { states, start } = compile(parse(source));
  const marks = new Int32Array(states.length).fill(-1);
  const first = firstTests(states, start);
  // One matcher runs one text at a time (matching is synchronous): its scratch state is kept, not reallocated.
  let gen = 0;
  let text = '';
  const add = (list: number[], s: number, i: number): boolean => {
    if (marks[s] === gen) return false;
    marks[s] = gen;
    const state = states[s] as State;
    if (state.k === 'match') return true;
    if (state.k === 'split') return add(list, state.out, i) || add(list, state.out2, i);
    if (state.k === 'assert') return state.test(text, i) && add(list, state.out, i);
    list.push(s);
    return false;
  };
  const matcher: Matcher = {
    test(input) {
      return matcher.testLower(input.toLowerCase());
    },
    testLower(lower) {
      text = lower;
      gen = 0;
      marks.fill(-1);
      let current: number[] = [];
      for (let i = 0; ; i++) {
        // No match in progress: jump to the next character a match can begin with (most text matches nothing).
        if (first && current.length === 0) {
          while (i < text.length && !first.some((t) => t(text[i] as string))) i++;
          if (i === text.length) return false;
        }
        if (add(current, start, i)) return true;
        if (i === text.length) return false;
        const c = text[i] as string;
        const next: number[] = [];
        gen++;
        for (const s of current) {
          const state = states[s] as State & { k: 'char' };
          if (state.test(c) && add(next, state.out, i + 1)) return true;
        }
        current = next;
      }
    },
  };
  if (matcher.test('')) throw new PatternError('the pattern matches empty text (it would match every turn)');
  return matcher;
}
