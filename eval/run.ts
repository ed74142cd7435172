/**
 * `npm run eval [-- DATA_DIR]`: prints every model's figures on public test data (DATA_DIR defaults to
 * ../shared/data). Each section is a module in this folder exporting a function of the data folder; a section
 * whose module is absent is skipped, so sections can land independently.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SECTIONS: readonly { file: string; run: string }[] = [
  { file: 'sentiment.ts', run: 'runSentimentEval' },
  { file: 'intent.ts', run: 'runIntentEval' },
];

const dataDir = resolve(process.argv[2] ?? '../shared/data');
const here = dirname(fileURLToPath(import.meta.url));
for (const section of SECTIONS) {
  const path = join(here, section.file);
  if (!existsSync(path)) continue;
  const module = (await import(path)) as Record<string, unknown>;
  const run = module[section.run];
  if (typeof run !== 'function') throw new Error(`${section.file} does not export ${section.run}(dataDir)`);
  await (run as (dir: string) => unknown)(dataDir);
  console.log('');
}
