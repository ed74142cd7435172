/**
 * Reading the public intent data sets (see README.md in this folder) into one labelled list. Intent ids are
 * prefixed by their source ("clinc:report_lost_card", "banking77:lost_or_stolen_card") because the two sets
 * name overlapping intents differently and one model learns both; CLINC150's out-of-scope requests get the
 * single label OUT_OF_SCOPE.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const OUT_OF_SCOPE = 'oos';
export const CLINC = 'clinc';
export const BANKING77 = 'banking77';

export interface Example {
  text: string;
  label: string;
}

export interface IntentData {
  clincTrain: Example[];
  clincVal: Example[];
  clincTest: Example[];
  oosTrain: Example[];
  oosVal: Example[];
  oosTest: Example[];
  bankingTrain: Example[];
  bankingTest: Example[];
}

/** The data folder: LIVECALLS_DATA, else ../shared/data next to the checkout. */
export function dataDir(): string {
  return process.env.LIVECALLS_DATA ?? path.resolve(process.cwd(), '..', 'shared', 'data');
}

function pairs(value: unknown, name: string): Example[] {
  if (!Array.isArray(value)) throw new Error(`clinc150: split ${name} is missing`);
  return value.map((row: unknown) => {
    if (!Array.isArray(row) || typeof row[0] !== 'string' || typeof row[1] !== 'string') {
      throw new Error(`clinc150: malformed row in ${name}`);
    }
    const label = row[1] === 'oos' ? OUT_OF_SCOPE : `${CLINC}:${row[1]}`;
    return { text: row[0], label };
  });
}

/** RFC 4180 CSV (quoted fields, doubled quotes), header row dropped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows.slice(1);
}

function banking(file: string): Example[] {
  return parseCsv(readFileSync(file, 'utf8')).map((row) => {
    const [text, category] = row;
    if (text === undefined || category === undefined) throw new Error(`banking77: malformed row in ${file}`);
    return { text, label: `${BANKING77}:${category}` };
  });
}

export function loadIntentData(dir = dataDir()): IntentData {
  const clinc = JSON.parse(readFileSync(path.join(dir, 'clinc150', 'data_full.json'), 'utf8')) as Record<string, unknown>;
  return {
    clincTrain: pairs(clinc.train, 'train'),
    clincVal: pairs(clinc.val, 'val'),
    clincTest: pairs(clinc.test, 'test'),
    oosTrain: pairs(clinc.oos_train, 'oos_train'),
    oosVal: pairs(clinc.oos_val, 'oos_val'),
    oosTest: pairs(clinc.oos_test, 'oos_test'),
    bankingTrain: banking(path.join(dir, 'banking77', 'train.csv')),
    bankingTest: banking(path.join(dir, 'banking77', 'test.csv')),
  };
}
