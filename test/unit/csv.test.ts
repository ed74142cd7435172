/** CSV cells of the call-history export: what a spreadsheet opens must never run a caller's words as a formula. */
import { describe, expect, it } from 'vitest';
import { csvCell } from '../../src/calls/history-record.ts';

describe('csvCell', () => {
  it.each([
    ['plain', 'plain'],
    ['=1+1', "'=1+1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    [' =1+1', `" =1+1"`],
    ['a, b', '"a, b"'],
    ['say "hi"', '"say ""hi"""'],
    // Split on ';' or a tab, these would start a formula in their second cell: quoted, they stay one cell.
    ["Bob;=cmd|' /C calc'!A0", `"Bob;=cmd|' /C calc'!A0"`],
    ['Bob\t=1+1', '"Bob\t=1+1"'],
  ])('%j -> %s', (text, cell) => {
    expect(csvCell(text)).toBe(cell);
  });

  it('writes numbers and booleans as they are, and a list as one quoted cell', () => {
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(['billing', 'refund'])).toBe('"billing; refund"');
    expect(csvCell(null)).toBe('');
  });
});
