import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { judgeTurn, SCORE_MEMO_SIZE, turnSentiment } from '../../../src/analysis/sentiment.ts';
import { SCRIPTS } from '../../../src/simulate/scripts.ts';

const TEXTS = SCRIPTS.flatMap((s) => s.turns.map((t) => t.text));

describe('remembered turn scores', () => {
  it('equal scoring afresh, in any order and with repeats', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(TEXTS.length - 1), { minLength: 1, maxLength: 40 }), (picks) => {
        for (const i of picks) {
          const text = TEXTS[i] as string;
          expect(turnSentiment(text)).toEqual(judgeTurn(text));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('stay right after older texts were evicted', () => {
    const first = 'This is terrible, I am really upset.';
    const before = turnSentiment(first);
    for (let i = 0; i <= SCORE_MEMO_SIZE; i++) turnSentiment(`order number ${i}`);
    expect(turnSentiment(first)).toEqual(before);
    expect(before.label).toBe('negative');
  });
});
