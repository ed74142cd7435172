import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Role, Turn } from '../../../src/analysis/index.ts';
import { classifyTurn } from '../../../src/analysis/sentiment-model/model.ts';
import { conversationSentiment, judgeTurn, labelFor, scoreText, TREND_LENGTH, turnSentiment } from '../../../src/analysis/sentiment.ts';
import { type Label, score } from '../../../eval/metrics.ts';

const turn = (role: Role, content: string, at = 0): Turn => ({ role, content, at });
const customer = (content: string, at = 0): Turn => turn('customer', content, at);
const agent = (content: string, at = 0): Turn => turn('agent', content, at);

describe('per-turn model on spoken dialogue', () => {
  it('requests and bare acknowledgements carry no mood', () => {
    for (const text of [
      'I would like to book a table for two.',
      'I need a train to Cambridge on Tuesday.',
      'Could you find me a cheap hotel with free parking?',
      'I want to cancel my subscription.',
      'Please help me with my credit card.',
      'What time does it leave?',
      'okay',
      'yes',
    ]) {
      expect(classifyTurn(text).label, text).toBe('neutral');
    }
  });

  it('clear affect is recognised', () => {
    expect(classifyTurn('This is terrible, I am really upset.').label).toBe('negative');
    expect(classifyTurn('That is perfect, exactly what I wanted!').label).toBe('positive');
  });

  it('negation: "not bad" is not negative, "not good" scores below "good"', () => {
    expect(classifyTurn('not bad').label).not.toBe('negative');
    expect(classifyTurn('Not bad at all, actually.').label).not.toBe('negative');
    expect(scoreText('that is not good')).toBeLessThan(scoreText('that is good'));
    expect(scoreText('I am not happy with this')).toBeLessThan(scoreText('I am happy with this'));
  });

  it('spellings of the same words score the same', () => {
    expect(scoreText('I don’t like this')).toBe(scoreText("I don't like this"));
    expect(scoreText('I dont like this')).toBe(scoreText('I do not like this'));
    expect(scoreText('I CAN’T BELIEVE IT')).toBe(scoreText("i can't believe it"));
  });

  it('acknowledgements carry no mood at all, whatever the model leans to', () => {
    for (const text of ['sure', 'Sure.', 'okay', 'OK!', 'yes please', 'no problem', 'good', 'got it', 'alright then']) {
      expect(turnSentiment(text), text).toMatchObject({ label: 'neutral', score: 0 });
    }
    // More than an acknowledgement is the model's to judge.
    expect(turnSentiment('sure, that sounds absolutely wonderful').label).toBe('positive');
  });

  it('a customer who says they are upset, or kept waiting, is negative whatever the turn is about', () => {
    for (const text of [
      "I'm really frustrated, my card was declined again.",
      'I am so annoyed with this booking',
      'Why is this taking so long?',
      'I have been waiting for 20 minutes',
    ]) {
      expect(turnSentiment(text).label, text).toBe('negative');
    }
    // Negated, it is not forced.
    expect(turnSentiment("I'm not angry, I just need my card replaced").label).not.toBe('negative');
  });

  it('stating no preference, or correcting a slip, is not a mood', () => {
    for (const text of ["No, I don't care about the price.", "It doesn't matter.", 'I have no preference', 'Any area is fine.']) {
      expect(turnSentiment(text), text).toMatchObject({ label: 'neutral', score: 0 });
    }
    expect(turnSentiment('sorry, I meant Wednesday').label).toBe('neutral');
    expect(turnSentiment('Oops, two people not three').label).toBe('neutral');
    // An upset word still decides, with or without the apology.
    expect(turnSentiment("Sorry, but I don't care, this is unacceptable").label).toBe('negative');
  });

  it('blank text scores 0', () => {
    expect(scoreText('')).toBe(0);
    expect(scoreText(' \n\t ')).toBe(0);
  });
});

describe('conversationSentiment', () => {
  it('is neutral 0 without customer turns, however warm the agent', () => {
    expect(conversationSentiment([])).toMatchObject({ label: 'neutral', score: 0, trend: [] });
    expect(conversationSentiment([agent('Hello! Wonderful to have you, I love helping!')])).toMatchObject({ label: 'neutral', score: 0 });
    expect(conversationSentiment([customer('   '), agent('Great!')])).toMatchObject({ label: 'neutral', score: 0 });
  });

  it('a call of one customer utterance gets the per-turn label', () => {
    const texts = fc.oneof(
      fc.constantFrom('great, thanks!', 'this is awful', 'I am not happy', 'ok', 'my bill is wrong', 'I need a taxi at 5'),
      fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ''),
    );
    fc.assert(
      fc.property(texts, (text) => {
        const call = conversationSentiment([customer(text)]);
        if (call.signals.length === 0) expect(call.label).toBe(turnSentiment(text).label);
      }),
    );
  });

  it('a booking that ends "thank you, goodbye" is neutral, not positive', () => {
    const turns = [
      customer('I would like to book a table for two at seven tonight.'),
      agent('Certainly, that is booked. Your reference is 4XY2.'),
      customer('Thank you, goodbye.'),
    ];
    expect(conversationSentiment(turns).label).toBe('neutral');
  });

  it('the usual polite closings leave a smooth booking neutral', () => {
    const booking = [
      customer('I am looking for a cheap restaurant in the centre.'),
      agent('Golden House is cheap, shall I book it?'),
      customer('Yes, for three people at six on Sunday.'),
      agent('Booked, the reference is XYZ. Anything else?'),
    ];
    for (const closing of [
      "Thank you, that's all I need.",
      'No, that will be all. Thanks for your help!',
      'Great, thank you for the information.',
    ]) {
      expect(conversationSentiment([...booking, customer(closing)]).label, closing).toBe('neutral');
    }
  });

  it('a customer who says they are pleased makes the call positive', () => {
    const turns = [
      customer('I need a hotel in the north with free parking.'),
      agent('The Acorn guest house has free parking, shall I book it?'),
      customer('Perfect, that is exactly what I was hoping for, you have been wonderful!'),
    ];
    expect(conversationSentiment(turns).label).toBe('positive');
  });

  it('closing pleasantries do not overturn a frustrated, unresolved call', () => {
    const frustrated = [
      customer('I need a train to London on Friday morning.'),
      agent('I am sorry, there are no trains on Friday morning.'),
      customer('I need a train to London on Friday, any time in the morning.'),
      agent('Unfortunately nothing is available then.'),
      customer('This is really annoying.'),
    ];
    const closed = conversationSentiment([...frustrated, customer('Okay, thanks, bye.')]);
    expect(closed.label).toBe('negative');
    expect(closed.signals).toEqual(expect.arrayContaining(['agent_cannot_help', 'repeated_request']));
  });

  it('two setbacks make a call negative; a warm goodbye after them does not soften it', () => {
    const failed = [
      customer('I need a train from London to Cambridge on Friday.'),
      agent('I am sorry, there are no trains matching your request.'),
      customer('Can you check again? I need to leave after 9am.'),
      agent('Unfortunately there are no trains available.'),
    ];
    const closings = ['Okay. Thank you, goodbye.', 'Thanks anyway, have a nice day!', 'Alright, thank you so much, bye.'];
    for (const closing of closings) {
      const call = conversationSentiment([...failed, customer(closing)]);
      expect(call.signals, closing).toEqual(['agent_cannot_help', 'repeated_request']);
      expect(call.label, closing).toBe('negative');
      expect(call.score, closing).toBeCloseTo(conversationSentiment(failed).score, 1);
    }
  });

  it('one setback and a polite goodbye stay neutral', () => {
    const turns = [
      customer('Is there a table for two at seven tonight?'),
      agent('I am afraid we are fully booked tonight.'),
      customer('Okay, I will think about it. Thank you, bye.'),
    ];
    const call = conversationSentiment(turns);
    expect(call.signals).toEqual(['agent_cannot_help']);
    expect(call.label).toBe('neutral');
  });

  it("the agent's setbacks do not count once it resolved the request; the customer's own friction still does", () => {
    const resolved = [
      customer('I need a hotel in the east with free wifi.'),
      agent('Unfortunately there are no hotels in the east with wifi.'),
      customer('What about guesthouses?'),
      agent('I am afraid there are none of those either. There is one in the south.'),
      customer('Okay, the south then. Please book it for 3 nights.'),
      agent('Done, your reference is 12AB.'),
      customer('Great, thank you, that is all.'),
    ];
    const call = conversationSentiment(resolved);
    expect(call.signals).not.toContain('agent_cannot_help');
    expect(call.label).not.toBe('negative');
    // Without the booking, the same two setbacks make it negative.
    expect(conversationSentiment(resolved.slice(0, 4)).label).toBe('negative');
    // A customer who had to correct the agent on the way keeps that signal.
    const corrected = [...resolved.slice(0, 4), customer("No, I said the east. That's not right."), ...resolved.slice(4)];
    expect(conversationSentiment(corrected).signals).toContain('correction');
  });

  const afterAQuestion = (text: string) =>
    conversationSentiment([customer('I need a hotel for Friday.'), agent('Sure, for how many people?'), customer(text)]).signals;

  it.each([
    ['I told you, 4 people.', 'repeated_request'],
    ["That's not right.", 'correction'],
    ['That is wrong, I asked for Friday.', 'correction'],
    ["You're not listening to me.", 'correction'],
    ["You don't understand what I need.", 'correction'],
    ['You got it wrong again.', 'correction'],
    ['That makes no sense.', 'correction'],
    ['What? I said the north.', 'correction'],
    ['I said Friday, not Thursday.', 'correction'],
    ['This is not helpful.', 'gave_up'],
  ])('friction a supervisor hears is named: %s -> %s', (text, signal) => {
    expect(afterAQuestion(text)).toContain(signal);
  });

  it.each([
    "That's right, four people.",
    'That makes sense, thanks.',
    'This is very helpful.',
    'Is the hotel still there on Mill Road?',
    'I said yes to the breakfast option earlier, is that included?',
    'You understand exactly what I need.',
    'Let me check again, yes it is 4567.',
    'I will check again with my wife and call back.',
    "Oh, you didn't get it? I'll send it again.",
    "Sorry, I didn't want to interrupt, but is there parking?",
    'What I asked for is a room with a sea view.',
    'Hello? Are you still there?',
  ])('ordinary turns name no friction: %s', (text) => {
    expect(afterAQuestion(text).filter((s) => s !== 'agent_cannot_help')).toEqual([]);
  });

  it('asking twice whether anyone is there is a wait on the call, never an upset turn', () => {
    expect(judgeTurn('Hello? Are you still there?').label).not.toBe('negative');
    const twice = conversationSentiment([
      customer('I need a hotel for Friday.'),
      agent('Let me look.'),
      customer('Hello? Are you still there?'),
      agent('Sorry, yes.'),
      customer('Hello? Are you there?'),
    ]);
    expect(twice.signals).toContain('long_wait');
  });

  it("an agent turn that apologises and 'resolves' nothing keeps the setback", () => {
    for (const failure of [
      "I'm sorry, I cannot change it. Your booking is non-refundable.",
      'Unfortunately I am unable to find it, your order is not in our system.',
    ]) {
      const call = conversationSentiment([customer('Can I change my booking to Friday?'), agent(failure), customer('Oh. Okay.')]);
      expect(call.signals, failure).toContain('agent_cannot_help');
    }
  });

  it('a customer who gives up is a negative call, however politely they leave', () => {
    const turns = [
      customer('I would like a table for two at an Italian place tonight.'),
      agent("I'm sorry, there are no Italian restaurants available tonight."),
      customer("Ok, I guess I'll try somewhere else. Thanks anyway, bye."),
      agent('Goodbye!'),
    ];
    const call = conversationSentiment(turns);
    expect(call.signals).toContain('gave_up');
    expect(call.label).toBe('negative');
  });

  it('"this is the third time I am asking" reads negative', () => {
    const turns = [customer('Where is my refund?'), agent('Let me look.'), customer('This is the third time I am asking about it.')];
    const s = conversationSentiment(turns);
    expect(s.label).toBe('negative');
    expect(s.signals).toContain('repeated_request');
  });

  it('asking for a human or a manager escalates', () => {
    const s = conversationSentiment([
      customer('My card was declined.'),
      agent('Can you try again?'),
      customer('Let me speak to a real person.'),
    ]);
    expect(s.signals).toContain('escalation');
    expect(s.label).toBe('negative');
  });

  it('asking whether the agent is a human is not escalation; typographic apostrophes do not hide a signal', () => {
    expect(conversationSentiment([customer('Hi, am I talking to a human?'), agent('I am a virtual assistant.')]).signals).not.toContain(
      'escalation',
    );
    const s = conversationSentiment([customer('Can I move my booking to Friday?'), agent('I’m afraid I can’t change that booking.')]);
    expect(s.signals).toContain('agent_cannot_help');
    expect(s.label).not.toBe('positive');
  });

  it('a transfer request lowers the score and is named', () => {
    const turns = [customer('I have a question about my bill.'), agent('Sure, what is it?'), customer('The amount looks different.')];
    const plain = conversationSentiment(turns);
    const transferred = conversationSentiment(turns, { transferRequested: true });
    expect(transferred.score).toBeLessThan(plain.score);
    expect(transferred.signals).toContain('transfer_requested');
    expect(plain.signals).not.toContain('transfer_requested');
  });

  it('a long silence is a long wait; an evenly paced call is not', () => {
    const paced = (gapMs: number[]): Turn[] => {
      let at = 0;
      const lines = ['I need to change my address.', 'Of course.', 'It is 4 Mill Lane.', 'Thanks, let me update it.', 'Okay.'];
      return lines.map((l, i) => {
        at += gapMs[i] ?? 5000;
        return i % 2 === 0 ? customer(l, at) : agent(l, at);
      });
    };
    expect(conversationSentiment(paced([5000, 5000, 5000, 120_000, 5000])).signals).toContain('long_wait');
    expect(conversationSentiment(paced([60_000, 60_000, 60_000, 60_000, 60_000])).signals).not.toContain('long_wait');
  });

  it('the trend is the customer turns alone, oldest first, bounded', () => {
    const many = Array.from({ length: TREND_LENGTH + 5 }, (_, i) => [
      customer(`My order number is ${i}.`),
      agent('I am delighted to help!'),
    ]).flat();
    const s = conversationSentiment([...many, customer('This is awful.')]);
    expect(s.trend).toHaveLength(TREND_LENGTH);
    expect(s.trend.at(-1)).toBeLessThan(0);
    expect(s.trend.at(-1)).toBeCloseTo(scoreText('This is awful.'), 2);
  });

  it('ignores blank turns', () => {
    const turns = [customer('I am very unhappy with this.'), agent('Sorry.'), customer('It broke again.')];
    const withBlanks = [customer(''), ...turns, customer('  '), agent('\n')];
    expect(conversationSentiment(withBlanks)).toEqual(conversationSentiment(turns));
  });

  const text = fc.oneof(
    fc.constantFrom(
      'great, thanks!',
      'this is awful',
      'I am not happy',
      'ok',
      'my bill is wrong',
      '',
      'LOVE IT!!!',
      'I am sorry, there are no rooms left.',
      'I already told you that',
      'thanks, bye',
    ),
    fc.string({ maxLength: 40 }),
  );
  const turns = fc.array(fc.record({ role: fc.constantFrom<Role>('agent', 'customer'), content: text, at: fc.nat() }), {
    maxLength: 12,
  });

  it('is deterministic and bounded; its label agrees with its score, and a failure rules positive out', () => {
    fc.assert(
      fc.property(turns, fc.boolean(), (ts, transferRequested) => {
        const a = conversationSentiment(ts, { transferRequested });
        expect(conversationSentiment(structuredClone(ts), { transferRequested })).toEqual(a);
        expect(a.score).toBeGreaterThanOrEqual(-1);
        expect(a.score).toBeLessThanOrEqual(1);
        if (a.label === 'positive') expect(a.score).toBeGreaterThan(0);
        if (a.label === 'negative') expect(a.score).toBeLessThan(0);
        const spoken = ts.filter((t) => t.content.trim() !== '');
        if (spoken.length > 1) expect(a.label).toBe(labelFor(a.score));
        if (a.signals.some((s) => s !== 'transfer_requested')) expect(a.label).not.toBe('positive');
        expect(a.trend.length).toBeLessThanOrEqual(TREND_LENGTH);
      }),
    );
  });
});

// A floor on GoEmotions test (never trained on): catches weights regenerated from the wrong data or features.
const TEST_SPLIT = fileURLToPath(new URL('../../../../shared/data/goemotions/group/test.tsv', import.meta.url));
describe('per-turn model on GoEmotions test', () => {
  const present = existsSync(TEST_SPLIT);
  if (!present) console.warn(`\n!!! SKIPPING GoEmotions sentiment check: ${TEST_SPLIT} not found !!!\n`);
  it.skipIf(!present)('3-class macro-F1 is at least 0.68', () => {
    const group = ['neutral', 'negative', 'neutral', 'positive'] as const;
    const gold: Label[] = [];
    const predicted: Label[] = [];
    for (const line of readFileSync(TEST_SPLIT, 'utf8').split('\n')) {
      const [text, ids] = line.split('\t');
      if (!text || !ids) continue;
      const labels = new Set(ids.split(',').map((id) => group[Number(id)]));
      const [only] = labels;
      if (labels.size !== 1 || !only) continue;
      gold.push(only);
      predicted.push(classifyTurn(text).label);
    }
    const s = score(gold, predicted);
    console.log(`[sentiment] GoEmotions test: macro-F1 ${s.macroF1.toFixed(4)} over ${s.n} comments`);
    expect(s.n).toBeGreaterThan(4000);
    expect(s.macroF1).toBeGreaterThanOrEqual(0.68);
  });
});
