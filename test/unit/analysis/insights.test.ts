import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analysedPart, ANALYSED_TURN_CHARS, ANALYSED_TURNS, createAnalyzer } from '../../../src/analysis/index.ts';
import type { Role, Turn } from '../../../src/analysis/index.ts';
import { COMPLAINT, HUMAN_REQUEST, MAX_SUMMARY, extractTopics } from '../../../src/analysis/insights.ts';

const turn = (role: Role, content: string, at = 0): Turn => ({ role, content, at });
const customer = (content: string): Turn => turn('customer', content);
const agent = (content: string): Turn => turn('agent', content);
const analyzer = createAnalyzer();
const topicsOf = (...texts: string[]) => extractTopics(texts.map(customer)).map((t) => t.topic);

describe('topics from the intent model', () => {
  it('a lost debit card is "lost or stolen card", not the words "card" and "debit"', () => {
    for (const text of ["Hi, I've lost my debit card.", 'My debit card was stolen.']) {
      const topics = topicsOf(text);
      expect(topics[0], text).toBe('lost or stolen card');
      expect(topics).not.toContain('card');
      expect(topics).not.toContain('debit');
    }
  });

  it('a train booking is a booking or travel, never an appointment', () => {
    const topics = topicsOf('I would like to book two train tickets to York for Saturday morning.');
    expect(['booking', 'travel']).toContain(topics[0]);
    expect(topics).not.toContain('appointment');
  });

  it('fillers and small talk name no topic', () => {
    for (const text of ['okay thanks', 'Yes.', 'Thank you so much, goodbye!', 'hello?', 'what is your name']) {
      expect(topicsOf(text), text).toEqual([]);
    }
  });

  it('out-of-scope questions name no topic rather than a wrong one', () => {
    for (const text of ['How tall is Mount Everest?', 'Who painted the Mona Lisa?', 'What is the capital of Mongolia?']) {
      expect(topicsOf(text), text).toEqual([]);
    }
  });

  it('reads only what the customer says, and gives each topic its intent and confidence', () => {
    expect(extractTopics([agent('Would you like to book a table or check your order status?')])).toEqual([]);
    const [first] = extractTopics([customer('Someone has taken money from my account that I do not recognise.')]);
    expect(first?.topic).toBe('suspicious transaction');
    expect(first?.intent).toMatch(/^(clinc|banking77|livecalls):/);
    expect(first?.confidence).toBeGreaterThan(0);
    expect(first?.confidence).toBeLessThanOrEqual(1);
  });

  it('ranks the topic the customer dwells on first', () => {
    const topics = topicsOf(
      'My parcel still has not arrived, where is it?',
      'The tracking has not changed in a week.',
      'The order was placed on the first.',
      'Also I want a refund for the broken lamp.',
    );
    expect(topics[0]).toBe('order and delivery');
  });

  it('explicit requests for a person are a topic of their own; mentioning a manager is not', () => {
    expect(topicsOf('Can you put me through to a real person please?')[0]).toBe(HUMAN_REQUEST);
    expect(topicsOf('The manager told me last week that the refund was on its way.')).not.toContain(HUMAN_REQUEST);
  });
});

describe('insights: summary and suggestions follow from what happened', () => {
  it("billing call: billing topic, an invoice suggestion, the customer's own words in the summary", () => {
    const result = analyzer.insights([
      agent('Hello, thanks for calling Acme. How can I help you today?'),
      customer('Hi. I was charged twice on my last bill and I want to know why.'),
      agent('I am sorry about that, let me pull up your invoice.'),
      customer('Okay.'),
    ]);
    expect(result.topics[0]).toBe('billing');
    expect(result.suggestions.some((s) => /invoice|payment/i.test(s))).toBe(true);
    expect(result.summary).toContain('charged twice');
    expect(result.summary).toContain('billing');
    expect(result.summary.length).toBeLessThanOrEqual(MAX_SUMMARY);
    expect(result.state).toBe('in progress');
  });

  it('says who called, why, what happened and how the customer is now', () => {
    const turns = [
      agent('Good morning, how can I help?'),
      customer('I lost my credit card on the bus this morning.'),
      agent('I have blocked your card and a replacement is on its way.'),
      customer('Thank you.'),
    ];
    const result = analyzer.insights(turns, { customerName: 'Ada Lovelace', customerPhone: '+15550001' });
    expect(result.state).toBe('resolved');
    expect(result.summary).toMatch(/^Call from Ada Lovelace \(\+15550001\) about lost or stolen card/);
    expect(result.summary).toMatch(/resolved/i);
    expect(result.summary).toMatch(/customer sounds (calm|satisfied|unhappy)/);
    // Done already: the next step is to close, not to block the card again.
    expect(result.suggestions.some((s) => /block the card/i.test(s))).toBe(false);
    expect(result.suggestions[0]).toMatch(/anything else/i);
  });

  it('the same lost card, not yet handled: block it and order a replacement', () => {
    const result = analyzer.insights([agent('How can I help?'), customer('I lost my credit card on the bus this morning.')]);
    expect(result.state).toBe('waiting');
    expect(result.suggestions.some((s) => /block the card/i.test(s))).toBe(true);
    expect(result.suggestions.some((s) => /waiting/i.test(s))).toBe(true);
  });

  it('a restaurant delivery question is not told to give an expected delivery date', () => {
    const result = analyzer.insights([
      agent("Luigi's pizzeria, how can I help?"),
      customer('Do you deliver to Elm Street?'),
      agent("I'm sorry, we don't deliver that far."),
    ]);
    expect(result.state).toBe('unresolved');
    const orderStatus = result.topicDetails.some((t) => t.intent === 'clinc:order_status');
    if (!orderStatus) expect(result.suggestions.join(' ')).not.toMatch(/expected delivery date/i);
    expect(result.suggestions.some((s) => /could not help/i.test(s))).toBe(true);
    // Whereas a caller asking where their order is gets exactly that.
    const late = analyzer.insights([customer('Where is my package? It should have arrived on Monday.')]);
    expect(late.topics[0]).toBe('order and delivery');
    expect(late.suggestions.join(' ')).toMatch(/expected delivery date/i);
  });

  it('a word that only appears in passing does not drive a suggestion', () => {
    const result = analyzer.insights([
      customer('I need to book a table for six on Friday evening, it is for my delivery team.'),
      agent('Your table for six on Friday at 7 pm is confirmed.'),
      customer('Perfect, thanks.'),
    ]);
    expect(result.topics[0]).toBe('booking');
    expect(result.suggestions.join(' ')).not.toMatch(/delivery/i);
    expect(result.state).toBe('resolved');
  });

  it('asking for a real person: human-request topic and a transfer suggestion first', () => {
    const result = analyzer.insights([agent('Hi, I am the virtual assistant.'), customer('I want to speak to a real person')]);
    expect(result.topics).toContain(HUMAN_REQUEST);
    expect(result.suggestions[0]).toMatch(/transfer/i);
  });

  it('a transfer under way is reported as such, from the agent or from the call', () => {
    const turns = [customer('Let me talk to a manager.'), agent('Of course, I am transferring you now.')];
    expect(analyzer.insights(turns).state).toBe('transferred');
    expect(analyzer.insights([customer('My card does not work.')], { transferRequested: true }).state).toBe('transferred');
    expect(analyzer.insights(turns).suggestions[0]).toMatch(/human agent picks the call up/i);
  });

  it('an angry cancellation: a complaint, an apology and a retention offer', () => {
    const result = analyzer.insights([customer('This is ridiculous, I have been waiting for weeks. I want to cancel my contract today.')]);
    expect(result.sentiment).toBe('negative');
    expect(result.topics).toEqual(expect.arrayContaining(['cancellation', COMPLAINT]));
    expect(result.suggestions.some((s) => /apologi[sz]e/i.test(s))).toBe(true);
    expect(result.suggestions.some((s) => /retention/i.test(s))).toBe(true);
  });

  it('empty conversation: no topics, empty summary, no suggestions', () => {
    const empty = { sentiment: 'neutral', topics: [], summary: '', suggestions: [], topicDetails: [], state: 'in progress' };
    expect(analyzer.insights([])).toEqual(empty);
    expect(analyzer.insights([customer('   '), agent('')])).toEqual(empty);
  });

  it('keeps an unpunctuated monologue (raw speech-to-text) within the limit, cut on a word', () => {
    const long = 'my internet connection keeps dropping every evening and the engineer never came and '.repeat(12);
    const { summary, topics } = analyzer.insights([customer(long)]);
    expect(topics[0]).toBe('technical problem');
    expect(summary.length).toBeLessThanOrEqual(MAX_SUMMARY);
    expect(summary).toMatch(/^Call about technical problem .*…".*Waiting/);
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
    'the',
    'not',
    'I want to speak to a human',
    'your booking is confirmed',
    "I'm sorry, we can't",
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
        expect(a.topics).toEqual(a.topicDetails.map((t) => t.topic));
        expect(new Set(a.topics).size).toBe(a.topics.length);
        expect(a.suggestions.length).toBeLessThanOrEqual(4);
        expect(new Set(a.suggestions).size).toBe(a.suggestions.length);
        expect(a.summary.length).toBeLessThanOrEqual(MAX_SUMMARY);
        const spoken = ts.some((t) => /[a-z0-9]/i.test(t.content));
        if (spoken) expect(a.summary).not.toBe('');
        if (ts.some((t) => t.content.trim() !== '')) expect(a.suggestions.length).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });
});

describe('what the analysis reads of a transcript', () => {
  it('reads the last ANALYSED_TURNS turns, each up to ANALYSED_TURN_CHARS characters', () => {
    const filler = 'x'.repeat(ANALYSED_TURN_CHARS);
    // A request for a person past the characters read, and an early complaint before the turns read: neither counts.
    const escalates = (turns: Turn[]) => analyzer.sentiment(turns).signals.includes('escalation');
    expect(escalates([customer(`${filler} I want to speak to a real person.`), agent('One moment.')])).toBe(false);
    expect(escalates([customer('I want to speak to a real person.'), agent('One moment.')])).toBe(true);
    const early = [customer('Let me speak to a manager now.'), ...Array.from({ length: ANALYSED_TURNS }, () => agent('One moment.'))];
    expect(escalates(early)).toBe(false);
    expect(escalates(early.slice(0, ANALYSED_TURNS))).toBe(true);
    // The same call, whatever lies before the part read.
    const call = [customer('I lost my card.'), agent('I have blocked it.'), customer('Thanks!')];
    const padded = [...Array.from({ length: 500 }, (_, i) => customer(`${i} ${filler}`)), ...call];
    expect(analyzer.insights(padded.slice(-ANALYSED_TURNS))).toEqual(analyzer.insights(padded));
    expect(analysedPart(padded)).toHaveLength(ANALYSED_TURNS);
    expect(Math.max(...analysedPart(padded).map((t) => t.content.length))).toBe(ANALYSED_TURN_CHARS);
  });
});
