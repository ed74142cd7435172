/**
 * How well the intent model survives misspellings, on CLINC150's validation split only (a check for choosing
 * features, not a test figure):
 *
 *   npx tsx eval/intent-typos.ts
 *
 * In about 30 % of the words of four letters or more, one inner character is dropped, swapped with the next
 * or replaced (seeded, so every run and every model sees the same typos). Prints in-scope accuracy of the
 * shipped model (best intent over all labels, out-of-scope decision included) on the clean and misspelt texts.
 */
import { loadIntentData } from '../src/analysis/intent/data.ts';
import { intentModel } from '../src/analysis/intent/model.ts';
import { mulberry32 } from '../src/analysis/seeded-random.ts';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

export function misspell(text: string, random: () => number): string {
  return text
    .split(' ')
    .map((w) => {
      if (w.length < 4 || random() > 0.3) return w;
      const i = 1 + Math.floor(random() * (w.length - 2));
      const kind = random();
      if (kind < 0.33) return w.slice(0, i) + w.slice(i + 1);
      if (kind < 0.66) return w.slice(0, i) + (w[i + 1] ?? '') + (w[i] ?? '') + w.slice(i + 2);
      return w.slice(0, i) + (LETTERS[Math.floor(random() * 26)] ?? '') + w.slice(i + 1);
    })
    .join(' ');
}

const data = loadIntentData();
const model = intentModel();
const random = mulberry32(7);
const xs = data.clincVal;
const right = (text: string, label: string) => model.predict(text, 1).intent === label;
const clean = xs.filter((x) => right(x.text, x.label)).length / xs.length;
const misspelt = xs.filter((x) => right(misspell(x.text, random), x.label)).length / xs.length;
console.log(`CLINC150 val in-scope accuracy: ${clean.toFixed(4)} clean, ${misspelt.toFixed(4)} misspelt (n=${xs.length})`);
