import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAnalyzer } from '../../../src/analysis/index.ts';
import type { Role, Turn } from '../../../src/analysis/index.ts';
import { MAX_SUMMARY, extractTopics, suggest } from '../../../src/analysis/insights.ts';

const turn = (role: Role, content: string, at = 0): Turn => ({ role, content, at });
const customer = (content: string): Turn => turn('customer', content);
const agent = (content: string): Turn => turn('agent', content);
const analyzer = createAnalyzer();

describe('insights', () => {
  it('billing call: billing topic, a billing suggestion, a short informative summary', () => {
    const turns = [
      agent('Hello, thanks for calling Acme. How can I help you today?'),
      customer('Hi. I was charged twice on my last bill and I want to know why.'),
      agent('I am sorry about that, let me pull up your invoice.'),
      customer('Okay.'),
    ];
    const result = analyzer.insights(turns);
    expect(result.topics[0]).toBe('billing');
    expect(result.suggestions.some((s) => /invoice|payment/i.test(s))).toBe(true);
    expect(result.summary).toContain('charged twice');
    expect(result.summary.length).toBeGreaterThan(0);
    expect(result.summary.length).toBeLessThanOrEqual(MAX_SUMMARY);
  });

  it('asking for a real person: human-request topic and a transfer suggestion first', () => {
    const result = analyzer.insights([agent('Hi, I am the virtual assistant.'), customer('I want to speak to a real person')]);
    expect(result.topics).toContain('human agent request');
    expect(result.suggestions[0]).toMatch(/transfer/i);
  });

  it('an angry cancellation: retention offer and an apology', () => {
    const result = analyzer.insights([customer('This is ridiculous, I have been waiting for weeks. I want to cancel my contract today.')]);
    expect(result.sentiment).toBe('negative');
    expect(result.topics).toEqual(expect.arrayContaining(['cancellation', 'complaint']));
    expect(result.suggestions.some((s) => /apologi[sz]e/i.test(s))).toBe(true);
    expect(result.suggestions.some((s) => /retention/i.test(s))).toBe(true);
  });

  it('empty conversation: no topics, empty summary, no suggestions', () => {
    const empty = { sentiment: 'neutral', topics: [], summary: '', suggestions: [] };
    expect(analyzer.insights([])).toEqual(empty);
    expect(analyzer.insights([customer('   '), agent('')])).toEqual(empty);
  });

  it('ranks the topic the customer dwells on first and picks up repeated unknown words', () => {
    const topics = extractTopics([
      customer('My package never arrived. The courier says it was delivered, but the tracking page disagrees.'),
      customer('Also my router keeps rebooting. The router is new.'),
      agent('I can check your account balance too.'),
    ]);
    expect(topics[0]).toBe('shipping/delivery');
    expect(topics).toContain('router');
    expect(topics).toContain('account inquiry');
  });

  it('keeps an unpunctuated monologue (raw speech-to-text) within the limit, cut on a word', () => {
    const long = 'my internet connection keeps dropping every evening and the engineer never came and '.repeat(12);
    const { summary } = analyzer.insights([customer(long)]);
    expect(summary.length).toBeLessThanOrEqual(MAX_SUMMARY);
    expect(summary).toMatch(/^Technical issue.*\b(and|came|dropping|engineer|evening|every|internet|keeps|my|never|the)…$/);
  });

  it('falls back to a generic next step when nothing is recognised', () => {
    expect(suggest([], 'neutral')).toHaveLength(1);
    expect(suggest([], 'positive')[0]).toMatch(/resolved/);
  });

  const vocabulary = fc.constantFrom(
    'bill',
    'refund',
    'cancel',
    'delivery',
    'appointment',
    'password',
    'broken',
    'manager',
    'terrible',
    'thanks',
    'router',
    'router',
    'the',
    'not',
    'I want to speak to a human',
    'great',
    '.',
    '!',
    '\n',
    'speak to a real person',
  );
  const turns = fc.array(
    fc.record({
      role: fc.constantFrom<Role>('agent', 'customer'),
      content: fc.array(fc.oneof(vocabulary, fc.string({ maxLength: 12 })), { maxLength: 30 }).map((w) => w.join(' ')),
      at: fc.nat(),
    }),
    { maxLength: 10 },
  );

  it('is deterministic and respects the size limits', () => {
    fc.assert(
      fc.property(turns, (ts) => {
        const a = analyzer.insights(ts);
        expect(analyzer.insights(structuredClone(ts))).toEqual(a);
        expect(a.sentiment).toBe(analyzer.sentiment(ts).label);
        expect(a.topics.length).toBeLessThanOrEqual(5);
        expect(new Set(a.topics).size).toBe(a.topics.length);
        expect(a.suggestions.length).toBeLessThanOrEqual(4);
        expect(new Set(a.suggestions).size).toBe(a.suggestions.length);
        expect(a.summary.length).toBeLessThanOrEqual(MAX_SUMMARY);
        const spoken = ts.some((t) => /[a-z0-9]/i.test(t.content));
        if (spoken) expect(a.summary).not.toBe('');
      }),
    );
  });
});
