/** Accuracy, macro-F1 and the confusion matrix over the three sentiment classes. */
export const LABELS = ['negative', 'neutral', 'positive'] as const;
export type Label = (typeof LABELS)[number];

export interface Scores {
  n: number;
  accuracy: number;
  macroF1: number;
  /** confusion[gold][predicted], in LABELS order. */
  confusion: number[][];
}

export function score(gold: readonly Label[], predicted: readonly Label[]): Scores {
  const confusion = LABELS.map(() => LABELS.map(() => 0));
  gold.forEach((g, i) => {
    const p = predicted[i];
    const row = confusion[LABELS.indexOf(g)];
    if (p !== undefined && row) row[LABELS.indexOf(p)] = (row[LABELS.indexOf(p)] ?? 0) + 1;
  });
  let correct = 0;
  let f1 = 0;
  LABELS.forEach((_, c) => {
    const tp = confusion[c]?.[c] ?? 0;
    correct += tp;
    const predictedC = confusion.reduce((s, row) => s + (row[c] ?? 0), 0);
    const goldC = (confusion[c] ?? []).reduce((s, v) => s + v, 0);
    f1 += tp === 0 ? 0 : (2 * tp) / (predictedC + goldC);
  });
  return { n: gold.length, accuracy: gold.length === 0 ? 0 : correct / gold.length, macroF1: f1 / LABELS.length, confusion };
}
