import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Turn } from '../../../src/analysis/index.ts';
import { AGENT_SHARE, CUSTOMER_WINDOW, DECAY, conversationSentiment, labelFor, scoreText } from '../../../src/analysis/sentiment.ts';
import { SCRIPTS } from '../../../src/simulate/scripts.ts';

/** The conversation score computed from scratch, every text scored afresh: what the remembered scores must equal. */
function fromScratch(turns: readonly Turn[]): { label: string; score: number } {
  const mean = (role: Turn['role']): number | undefined => {
    const recent = turns
      .filter((t) => t.role === role && t.content.trim() !== '')
      .map((t) => t.content)
      .slice(-CUSTOMER_WINDOW);
    if (recent.length === 0) return undefined;
    let sum = 0;
    let weights = 0;
    recent.forEach((text, i) => {
      const w = DECAY ** (recent.length - 1 - i);
      sum += w * scoreText(text);
      weights += w;
    });
    return sum / weights;
  };
  const customer = mean('customer');
  if (customer === undefined) return { label: 'neutral', score: 0 };
  const agent = mean('agent');
  const raw = agent === undefined ? customer : (1 - AGENT_SHARE) * customer + AGENT_SHARE * agent;
  const score = Math.round(Math.max(-1, Math.min(1, raw)) * 10_000) / 10_000 + 0;
  return { label: labelFor(score), score };
}

const TEXTS = SCRIPTS.flatMap((s) => s.turns.map((t) => t.text));

describe('conversation sentiment with remembered turn scores', () => {
  it('equals scoring every turn afresh, as a conversation grows turn by turn and texts repeat across calls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ role: fc.constantFrom<Turn['role']>('agent', 'customer'), text: fc.nat(TEXTS.length - 1) }), {
          minLength: 1,
          maxLength: 30,
        }),
        (script) => {
          const turns: Turn[] = [];
          for (const [i, s] of script.entries()) {
            turns.push({ role: s.role, content: TEXTS[s.text] as string, at: i });
            // Every prefix: the window slides, older texts leave it, remembered ones come back.
            expect(conversationSentiment(turns)).toEqual(fromScratch(turns));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a text whose score was remembered for one role scores the same for the other', () => {
    const text = 'This is terrible, I am really upset.';
    const asCustomer = conversationSentiment([{ role: 'customer', content: text, at: 0 }]);
    const mixed = conversationSentiment([
      { role: 'agent', content: text, at: 0 },
      { role: 'customer', content: text, at: 1 },
    ]);
    expect(asCustomer.label).toBe('negative');
    expect(mixed).toEqual(
      fromScratch([
        { role: 'agent', content: text, at: 0 },
        { role: 'customer', content: text, at: 1 },
      ]),
    );
  });
});
