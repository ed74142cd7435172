/**
 * Phrase patterns: the bounded syntax, matched by state-set simulation (no backtracking on any input), within
 * each workspace's budget of steps.
 */
import { describe, expect, it } from 'vitest';
import { compilePattern, MAX_PATTERN_LENGTH, MAX_STATES, PatternError } from '../../../src/alerts/pattern.ts';
import {
  compileRules,
  PATTERN_STEPS_BURST,
  PATTERN_STEPS_PER_SECOND,
  patternBudgetSkips,
  prepareText,
  workspaceBudget,
} from '../../../src/alerts/rules.ts';

describe('phrase patterns', () => {
  it.each([
    ['cancel', 'I want to CANCEL my plan', true],
    ['\\bcancel\\b', 'the cancellation fee', false],
    ['refund(s|ed)?', 'any refunds?', true],
    ['^hello', 'well, hello', false],
    ['bye$', 'good bye', true],
    ['[0-9]{3}-[0-9]{4}', 'call 555-1234 now', true],
    ['speak (to|with) (a )?(human|person|manager)', 'can I speak with a manager', true],
    ['\\d+ dollars', 'it cost 40 dollars', true],
    ['[A-Z]x', 'QX', true],
    ['[^a-z ]', 'only letters', false],
    ['a{2,3}b', 'ab', false],
    ['a{2,3}b', 'caab', true],
    ['colou?r', 'What color?', true],
    ['(?:not|never) working', 'it is never working', true],
  ])('%s on %j is %s', (pattern, text, expected) => {
    expect(compilePattern(pattern).test(text)).toBe(expected);
  });

  it('answers on inputs that make a backtracking engine blow up', () => {
    // (a+)+$ against "aaaa…!" takes exponential time in a backtracking engine; here it is a plain no.
    expect(compilePattern('(a+)+$').test(`${'a'.repeat(10_000)}!`)).toBe(false);
    expect(compilePattern('(a|aa)*c').test('a'.repeat(10_000))).toBe(false);
    expect(compilePattern('(x+x+)+y').test('x'.repeat(5_000))).toBe(false);
  });

  it.each([
    ['(a', 'unclosed ('],
    ['a)', 'unmatched )'],
    ['*a', 'nothing to repeat'],
    ['(?=a)b', 'lookarounds'],
    ['(a)\\1', 'unsupported escape'],
    ['a{99}', 'repeat counts'],
    ['a|', 'matches empty text'],
    ['x'.repeat(MAX_PATTERN_LENGTH + 1), 'characters'],
    ['(((a{20}){20}){20})', 'too complex'],
  ])('refuses %s (%s)', (pattern, message) => {
    expect(() => compilePattern(pattern)).toThrow(PatternError);
    expect(() => compilePattern(pattern)).toThrow(message);
  });
});

describe("a workspace's pattern budget", () => {
  // Allowed (under 400 states), and at its worst on a long run of x: most states stay alive at every character.
  const HEAVY = '(.{0,9}x){9}.{0,9}zq';

  it('stops a match that runs out of steps, and answers false', () => {
    const m = compilePattern(HEAVY);
    const text = `${'x'.repeat(10_000)}zq`;
    expect(m.testLower(text, { left: Number.MAX_SAFE_INTEGER })).toBe(true);
    const small = { left: 50_000 };
    expect(m.testLower(text, small)).toBe(false);
    expect(small.left).toBeLessThan(0);
    expect(small.left).toBeGreaterThan(-MAX_STATES - 2);
  });

  it('bounds what one workspace spends on many heavy rules over long turns; another workspace is untouched', () => {
    const heavy = compileRules(
      {
        version: 1,
        rules: Array.from({ length: 50 }, (_, i) => ({
          id: `r${i}`,
          enabled: true,
          kind: 'phrase' as const,
          side: 'any' as const,
          pattern: HEAVY,
        })),
      },
      'ws_heavy',
    );
    const start = performance.now();
    const skipsBefore = patternBudgetSkips.count;
    const before = workspaceBudget('ws_heavy', start).left;
    const turn = prepareText('x'.repeat(10_000));
    for (let n = 0; n < 10; n++) for (const rule of heavy.rules) expect(rule.matches?.(turn)).toBe(false);
    const after = workspaceBudget('ws_heavy').left;
    // Spent at most the budget it had plus what refilled meanwhile (one match may overshoot by a step).
    const refilled = ((performance.now() - start) / 1000) * PATTERN_STEPS_PER_SECOND;
    expect(before - after).toBeLessThanOrEqual(PATTERN_STEPS_BURST + refilled + MAX_STATES + 1);
    // Unbounded, these 500 matches would take 500 x ~3,000,000 steps.
    expect(before - after).toBeLessThan(500 * 3_000_000);
    // Most were given up, and counted for the operator.
    expect(patternBudgetSkips.count - skipsBefore).toBeGreaterThan(400);

    const other = compileRules(
      { version: 1, rules: [{ id: 'p', enabled: true, kind: 'phrase', side: 'any', pattern: 'speak to (a|the) manager' }] },
      'ws_other',
    );
    expect(other.rules[0]?.matches?.(prepareText('Can I speak to a manager please'))).toBe(true);
  });

  it('refills with time, up to the burst', () => {
    const t0 = 1_000_000;
    const b = workspaceBudget('ws_refill', t0);
    expect(b.left).toBe(PATTERN_STEPS_BURST);
    b.left = -10;
    expect(workspaceBudget('ws_refill', t0 + 500).left).toBeCloseTo(PATTERN_STEPS_PER_SECOND / 2 - 10);
    expect(workspaceBudget('ws_refill', t0 + 60_000).left).toBe(PATTERN_STEPS_BURST);
  });
});
