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

import { parse, PatternError, type Assert, type Ast, type Test } from './pattern-syntax.ts';

export { PatternError };

export const MAX_PATTERN_LENGTH = 200;
export const MAX_STATES = 400;

type State =
  | { k: 'char'; test: Test; out: number }
  | { k: 'assert'; test: Assert; out: number }
  | { k: 'split'; out: number; out2: number }
  | { k: 'match' };

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

/**
 * Steps a workspace's patterns may still take (one per state alive at a character): a match that runs out
 * stops and answers false. Linear time is not cheap time: 50 patterns of 400 states over a 10,000-character
 * turn are 200 million steps, seconds of a server shared by every workspace.
 */
export interface MatchBudget {
  left: number;
}

export interface Matcher {
  test(text: string): boolean;
  /** The same, for text already in lower case (several rules test one turn: it is lowered once). */
  testLower(lower: string, budget?: MatchBudget): boolean;
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
    testLower(lower, budget) {
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
        if (budget && (budget.left -= current.length + 1) < 0) return false;
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
