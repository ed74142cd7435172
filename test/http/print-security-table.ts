/** `npm run security:table`: the security table (security-table.ts) as Markdown, for docs/security.md. */
import { format, resolveConfig } from 'prettier';
import { ATTACK_STEPS, CASES, EXPECTED, ROUTES, routeLabel, showExpected, SIGNED_CASES } from './security-table.ts';

const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
const lines: string[] = [];

lines.push(row(['Route', ...CASES.map((c) => c.title)]), row(['---', ...CASES.map(() => ':---:')]));
for (const r of ROUTES) lines.push(row([`\`${routeLabel(r)}\``, ...CASES.map((c) => showExpected(EXPECTED[r.id][c.id]))]));
lines.push('', ...CASES.map((c) => `- **${c.title}**: ${c.description}.`));
lines.push('', '— : does not apply.', '');

lines.push('Agent events signed as LiveKit signs (`Authorization: <jwt>`, claim `sha256` of the body):', '');
lines.push(row(['Signed request', 'Status']), row(['---', ':---:']));
for (const c of SIGNED_CASES) lines.push(row([c.title, showExpected(c.expected)]));
lines.push('');

lines.push("The attack, in order, with A's key on B's live room:", '');
lines.push(row(['Step', 'Status']), row(['---', ':---:']));
for (const s of ATTACK_STEPS) {
  const r = ROUTES.find((x) => x.id === s.route);
  lines.push(row([r ? `\`${routeLabel(r)}\`` : s.route, String(s.expected)]));
}

// Formatted as the docs are checked (`prettier --check`), so the output pastes in unchanged.
const options = await resolveConfig(new URL('../../docs/security.md', import.meta.url));
process.stdout.write(await format(lines.join('\n'), { ...options, parser: 'markdown' }));
