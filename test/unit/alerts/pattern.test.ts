/** Phrase patterns: the bounded syntax, matched by state-set simulation (no backtracking on any input). */
import { describe, expect, it } from 'vitest';
import { compilePattern, MAX_PATTERN_LENGTH, PatternError } from '../../../src/alerts/pattern.ts';

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
