import { describe, expect, it } from 'vitest';
import { NGRAMS, countHashes, ngramHashes, words } from '../../../src/analysis/intent/features.ts';
import { IntentModel, decodeModel, encodeModel, intentModel } from '../../../src/analysis/intent/model.ts';
import { NO_TOPIC, TOPICS, intentWords, mappedIntents, predictTopic, topicOf } from '../../../src/analysis/intent/topics.ts';
import { parseCsv } from '../../../src/analysis/intent/data.ts';

describe('intent features', () => {
  it('normalise case, typographic apostrophes and digits, so equivalent texts share features', () => {
    expect(words('I’ve LOST my card, 4242!')).toEqual(["i've", 'lost', 'my', 'card', '0000']);
    expect(countHashes(ngramHashes(words('Card lost')))).toEqual(countHashes(ngramHashes(words('card   LOST'))));
    expect(ngramHashes(words('card lost'))).not.toEqual(ngramHashes(words('lost card')));
    expect(ngramHashes([])).toEqual([]);
  });
});

describe('intent model file', () => {
  const model = intentModel();

  it('round-trips through its binary format', () => {
    const copy = IntentModel.fromBuffer(encodeModel(model.header, model.arrays));
    expect(decodeModel(encodeModel(model.header, model.arrays)).header).toEqual(model.header);
    for (const text of ['i lost my card', 'book a table for two', 'what is the weather']) {
      expect(copy.predict(text)).toEqual(model.predict(text));
    }
  });

  it('says nothing about text without words, and probabilities sum to one', () => {
    expect(model.predict('').intent).toBeNull();
    expect(model.predict('?!').ranked).toEqual([]);
    const p = model.probabilities('where is my parcel');
    expect(p).not.toBeNull();
    expect([...(p ?? [])].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('records the n-grams it was trained on, and is refused with other features', () => {
    expect(model.header.meta.ngrams).toBe(NGRAMS);
    const other = { ...model.header, meta: { ...model.header.meta, ngrams: 'words 1-2, characters 3-5' } };
    expect(() => IntentModel.fromBuffer(encodeModel(other, model.arrays))).toThrow(/retrain/);
  });

  it('a tuned threshold and an explicit out-of-scope class', () => {
    expect(model.header.threshold).toBeGreaterThan(0);
    expect(model.header.threshold).toBeLessThan(1);
    expect(model.labels).toContain(model.header.outOfScope);
  });
});

describe('topic table', () => {
  it('maps every intent of the shipped model exactly once, and nothing else', () => {
    const intents = model().labels.filter((l) => l !== model().header.outOfScope);
    const mapped = [...Object.values(TOPICS).flat(), ...NO_TOPIC];
    expect(new Set(mapped).size).toBe(mapped.length);
    expect([...mappedIntents()].sort()).toEqual([...intents].sort());
  });

  it('groups the same need from both data sets under one topic', () => {
    expect(topicOf('clinc:report_lost_card')).toBe('lost or stolen card');
    expect(topicOf('banking77:lost_or_stolen_card')).toBe('lost or stolen card');
    expect(topicOf('clinc:thank_you')).toBeNull();
    expect(topicOf('no:such_intent')).toBeNull();
    expect(intentWords('banking77:reverted_card_payment?')).toBe('reverted card payment');
  });

  it('decides a topic on the summed probability of its intents', () => {
    const prediction = predictTopic(model(), 'my card was stolen from my bag');
    expect(prediction?.topic).toBe('lost or stolen card');
    expect(topicOf(prediction?.intent ?? '')).toBe('lost or stolen card');
    expect(prediction?.confidence).toBeGreaterThanOrEqual(model().header.threshold);
  });
});

describe('csv', () => {
  it('reads quoted fields with commas and doubled quotes', () => {
    expect(parseCsv('text,category\n"Hi, ""there""",a\nplain,b\n')).toEqual([
      ['Hi, "there"', 'a'],
      ['plain', 'b'],
    ]);
  });
});

function model(): IntentModel {
  return intentModel();
}
