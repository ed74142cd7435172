/**
 * The heaviest functions of a V8 CPU profile (`node --cpu-prof`), by self time and by total time (self plus
 * everything it called). Usage: npx tsx bench/profile-top.ts FILE.cpuprofile [--top 25] [--filter text] [--under text]
 * --filter shows only functions whose name or file contains the text; --under counts only the samples taken
 * inside such a function (e.g. --under livekit-webhooks.ts: where the webhook route spends its time).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, filter: { type: 'string' }, under: { type: 'string' } },
});
const file = positionals[0];
if (!file) {
  console.error('usage: npx tsx bench/profile-top.ts FILE.cpuprofile [--top 25] [--filter text]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

function stackOf(id: number): ProfileNode[] {
  const stack: ProfileNode[] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (!n) break;
    stack.push(n);
  }
  return stack;
}

const under = values.under;
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  if (under && !stackOf(id).some((n) => label(n).includes(under))) return;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

function label(n: ProfileNode): string {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
}

const self = new Map<string, number>();
const total = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  self.set(label(node), (self.get(label(node)) ?? 0) + us);
  // Each function counted once per sample, even when it recurses.
  const seen = new Set<string>();
  for (const n of stackOf(id)) {
    const l = label(n);
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + us);
  }
}

const top = Number(values.top);
const keep = (l: string) => !values.filter || l.includes(values.filter);
function print(title: string, m: Map<string, number>): void {
  console.log(`\n${title} (of ${(totalUs / 1000).toFixed(0)} ms sampled)`);
  for (const [l, us] of [...m]
    .filter(([l]) => keep(l))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    console.log(`${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${l}`);
  }
}
print('self time', self);
print('total time', total);
