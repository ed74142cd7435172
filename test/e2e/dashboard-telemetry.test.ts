/**
 * The wallboard's live agent telemetry, alerts and analytics view end to end: the real server process, the
 * LiveKit stand-in, calls and agent telemetry driven through the real ingest path (signed webhooks, signed
 * agent events of the kinds a LiveKit agent worker sends), real alert rules and prices set through the API,
 * and the page in headless Chromium. What the page shows is checked against what the API answers.
 *
 * Leaves the README's screenshots in docs/screenshots/ (dashboard-live.png, analytics.png, phone.png).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/server-process.ts';
import { chromiumAvailable, launchChromium, startWorld, type World } from './world.ts';

const SCREENSHOTS = path.join(ROOT, 'docs', 'screenshots');

const HOURS = 3_600_000;
const POSITIVE = 'Thanks, that was really helpful, great service!';
const NEUTRAL = 'I would like to update the address on my account.';
const NEGATIVE = 'This is useless, I am very angry about the delay.';

/**
 * The browser's time zone: one where it is about 10 in the morning now, so that "today" holds the calls of
 * 5 hours ago and the live ones, and not those of 12 and 18 hours ago, whenever the test runs.
 */
const TIMEZONE = (() => {
  let offset = (10 - new Date().getUTCHours() + 24) % 24;
  if (offset > 14) offset -= 24;
  return offset >= 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`; // POSIX names: the sign is inverted
})();

const A = 'call-billing';
const B = 'call-support';
const C = 'call-web';

interface Summary {
  last: number;
  p50: number;
  p95: number;
}
interface Telemetry {
  agentState: string | null;
  customerState: string | null;
  latency: { turns: number } & Record<'e2e' | 'llmTtft' | 'ttsTtfb' | 'endOfTurnDelay' | 'transcriptionDelay', Summary | null>;
  interruptions: { count: number; false: number };
  usage: { llmPromptTokens: number; llmCompletionTokens: number; estimatedCost: number | null; currency: string | null };
  errors: { count: number; recent: { message: string }[] };
  tools: { count: number; failed: number; recent: { name: string; ok: boolean }[] };
  alerts: { id: string; kind: string; message: string; clearedAt: string | null }[];
}
interface Details extends Telemetry {
  id: string;
  roomName: string;
}
interface Stats {
  totals: { calls: number; concurrencyPeak: number; sentiment: Record<'positive' | 'neutral' | 'negative', number> };
  agents: { agent: string; calls: number }[];
  buckets: { start: string; started: number }[];
}

/** The page's way of writing a duration in ms (js/telemetry.js formatMs): a no-break space before the unit. */
function ms(value: number | undefined): string {
  if (value === undefined) return '—';
  if (value < 1000) return `${Math.round(value)}\u00a0ms`;
  return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)}\u00a0s`;
}

const agentTurn = (content: string, e2eMs: number, llmTtftMs: number, ttsTtfbMs: number) => ({
  type: 'transcript',
  role: 'agent',
  content,
  metrics: { e2eMs, llmTtftMs, ttsTtfbMs },
});
const customerTurn = (content: string, extra: Record<string, unknown> = {}) => ({
  type: 'transcript',
  role: 'customer',
  content,
  metrics: { endOfTurnDelayMs: 420, transcriptionDelayMs: 180 },
  ...extra,
});

describe.skipIf(!chromiumAvailable())('dashboard: live telemetry, alerts and analytics in headless Chromium', () => {
  let w: World;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  /** The call's record, which carries its telemetry (contract B): looked up by the room's active call. */
  async function details(room: string): Promise<Details> {
    const { id } = await w.api<{ id: string }>('GET', `/v2/api/active-calls/${room}`);
    return w.api<Details>('GET', `/v2/api/calls/${id}`);
  }
  const row = (room: string) => page.locator(`#calls > li[data-room="${room}"]`);
  const rows = () => page.$$eval('#calls > li', (lis) => lis.map((li) => (li as HTMLElement).dataset.room));

  let pastSeq = 0;
  /**
   * Calls that started `agoMs` ago, a minute apart, each saying one thing, and ended `minutes` after their
   * group's start: made through LiveKit's and the agent's clocks set back (as if it happened then).
   */
  async function pastCalls(agoMs: number, calls: [agent: string, words: string, minutes: number, transfer?: boolean][]): Promise<void> {
    const rooms = calls.map(() => `call-earlier-${++pastSeq}`);
    for (const [i, [agent, words, , transfer]] of calls.entries()) {
      w.past.ms = agoMs - i * 60_000;
      await w.startCall(rooms[i]!, agent, { phone: `+1415555${String(2000 + pastSeq * 10 + i)}` });
      await w.agentEvents(rooms[i]!, [
        customerTurn(words),
        ...(transfer ? [{ type: 'transfer_requested', reason: 'asked for a human' }] : []),
      ]);
    }
    const byEnd = calls
      .map(([, , minutes], i) => ({ room: rooms[i]!, endsAgo: agoMs - minutes * 60_000 }))
      .sort((a, b) => b.endsAgo - a.endsAgo);
    for (const { room, endsAgo } of byEnd) {
      w.past.ms = endsAgo;
      w.lk.deleteRoom(room);
      await w.lk.webhooksDelivered();
    }
    w.past.ms = 0;
  }

  beforeAll(async () => {
    w = await startWorld();
    // The workspace's prices and alert rules, through the API as an operator would set them.
    await w.api('PUT', '/v2/api/prices', {
      currency: 'USD',
      llmPromptPer1k: 0.005,
      llmCompletionPer1k: 0.015,
      ttsPer1kChars: 0.03,
      sttPerMinute: 0.006,
    });
    await w.api('PUT', '/v2/api/alert-rules', {
      rules: [
        { id: 'cancel-phrase', kind: 'phrase', enabled: true, side: 'customer', text: 'cancel' },
        { id: 'slow-replies', kind: 'latency_p95', enabled: true, ms: 5000, turns: 3 },
      ],
    });

    // The last day's calls, for the analytics view: four at once yesterday, two late yesterday, two early today.
    await pastCalls(HOURS * 18, [
      ['Billing Agent', POSITIVE, 12],
      ['Support Agent', NEGATIVE, 20, true],
      ['Support Agent', NEUTRAL, 8],
      ['Sales Agent', POSITIVE, 15],
    ]);
    await pastCalls(HOURS * 12.5, [
      ['Billing Agent', NEUTRAL, 6],
      ['Support Agent', POSITIVE, 9],
    ]);
    await pastCalls(HOURS * 5, [
      ['Billing Agent', NEGATIVE, 4],
      ['Sales Agent', POSITIVE, 7],
    ]);

    await w.startCall(A, 'Billing Agent', { phone: '+14155550101' });
    await w.agentEvents(A, [
      { type: 'customer_info', name: 'Ada Lovelace' },
      { type: 'agent_state', state: 'listening' },
    ]);
    await w.startCall(B, 'Support Agent', { phone: '+14155550102' });
    await w.agentEvents(B, [{ type: 'customer_info', name: 'Grace Hopper' }]);
    await w.startCall(C, 'Support Agent', 'web');

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: TIMEZONE });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    await page.goto(`${w.server.url}/`);
    await page.getByLabel('API key').fill(w.apiKey);
    await page.getByLabel('Workspace id').fill(w.workspaceId);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#calls > li').length === 3);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await w?.close();
  });

  it("shows each call's agent state and response time live, as the agent reports them", async () => {
    await w.agentEvents(A, [customerTurn('Hi, I have a question about my latest invoice.'), { type: 'agent_state', state: 'thinking' }]);
    await page.waitForFunction(
      (room) => document.querySelector(`#calls > li[data-room="${room}"] .state-chip`)?.textContent === 'Thinking',
      A,
      {
        timeout: 5_000,
      },
    );
    await w.agentEvents(A, [
      agentTurn('Sure, let me look that invoice up for you.', 900, 420, 210),
      customerTurn('It is invoice 1234.'),
      agentTurn('Found it: 120 dollars, due on Friday.', 1300, 610, 260),
      { type: 'agent_state', state: 'speaking' },
    ]);
    await w.agentEvents(B, [
      customerTurn('My order never arrived.'),
      agentTurn('I am sorry to hear that, let me check.', 2100, 1500, 300),
      { type: 'agent_state', state: 'listening' },
    ]);
    const api = await details(A);
    expect(api.agentState).toBe('speaking');
    expect(api.latency.e2e?.last).toBe(1300);
    const expected = `Reply p50\u00a0${ms(api.latency.e2e?.p50)} · p95\u00a0${ms(api.latency.e2e?.p95)}`;
    await page.waitForFunction(
      ([room, text]) => {
        const li = document.querySelector(`#calls > li[data-room="${room}"]`);
        return li?.querySelector('.state-chip')?.textContent === 'Speaking' && li.querySelector('.call-latency')?.textContent === text;
      },
      [A, expected] as const,
      { timeout: 5_000 },
    );
    expect(await row(B).locator('.state-chip').textContent()).toBe('Listening');
    expect(await row(C).locator('.call-live').isHidden()).toBe(true); // no telemetry from that agent
  });

  it('aggregates latency per agent from the live calls', async () => {
    const [a, b] = [await details(A), await details(B)];
    const cells = async (agent: string) =>
      page.$$eval(`#agent-latency tr[data-agent="${agent}"] > *`, (tds) => tds.map((td) => td.textContent));
    await page.waitForFunction(() => document.querySelectorAll('#agent-latency tr').length === 2);
    expect(await cells('Billing Agent')).toEqual([
      'Billing Agent',
      '1',
      String(a.latency.turns),
      ms(a.latency.e2e?.p50),
      ms(a.latency.e2e?.p95),
      ms(a.latency.llmTtft?.p50),
    ]);
    // Support Agent has two calls, one of them silent: the panel takes what the measured one says.
    expect(await cells('Support Agent')).toEqual([
      'Support Agent',
      '2',
      String(b.latency.turns),
      ms(b.latency.e2e?.p50),
      ms(b.latency.e2e?.p95),
      ms(b.latency.llmTtft?.p50),
    ]);
    // The slowest agent first.
    expect(await page.$$eval('#agent-latency tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.agent))).toEqual([
      'Support Agent',
      'Billing Agent',
    ]);
  });

  it('shows latency per stage, interruptions, usage and cost, errors and tools in the details, updated live', async () => {
    await row(A).getByRole('button').click();
    await page.locator('#details').waitFor({ state: 'visible' });
    await page.locator('#telemetry .latency-table').waitFor();
    await w.agentEvents(A, [
      customerTurn('Wait, can I', { interrupted: true }),
      { type: 'false_interruption', resumed: true },
      { type: 'tools_executed', tools: [{ name: 'lookup_invoice', ok: true, durationMs: 230 }] },
      { type: 'tools_executed', tools: [{ name: 'send_receipt', ok: false, durationMs: 1200, error: 'mail server timeout' }] },
      { type: 'usage', llmPromptTokens: 1200, llmCompletionTokens: 300, ttsCharacters: 800, sttSeconds: 42.5 },
      { type: 'agent_error', source: 'llm', message: '429 Too Many Requests from the LLM provider', recoverable: true },
    ]);
    await page.waitForFunction(() => (document.querySelector('#telemetry')?.textContent ?? '').includes('send_receipt failed'), undefined, {
      timeout: 5_000,
    });
    const api = await details(A);
    const stage = (metric: string) => page.$$eval(`#telemetry tr[data-metric="${metric}"] td`, (tds) => tds.map((td) => td.textContent));
    for (const metric of ['e2e', 'llmTtft', 'ttsTtfb', 'endOfTurnDelay', 'transcriptionDelay'] as const) {
      const s = api.latency[metric];
      expect(await stage(metric), metric).toEqual([ms(s?.last), ms(s?.p50), ms(s?.p95)]);
    }
    expect(await page.locator('#telemetry caption').textContent()).toBe(`Latency over ${api.latency.turns} measured turns`);
    const fact = (key: string) => page.locator(`#telemetry [data-telemetry="${key}"]`).textContent();
    expect(api.interruptions.false).toBe(1);
    expect(await fact('interruptions')).toBe(`${api.interruptions.count} (1 false)`);
    expect(await fact('usage')).toContain('1200 prompt + 300 completion tokens');
    expect(api.usage.estimatedCost).toBeGreaterThan(0);
    expect(await fact('cost')).toMatch(/^\$0\.\d{1,4}$/);
    expect(await fact('errors')).toBe('1');
    expect(await fact('tools')).toBe('2 (1 failed)');
    const telemetry = (await page.locator('#telemetry').textContent()) ?? '';
    expect(telemetry).toContain('LLM: 429 Too Many Requests from the LLM provider');
    expect(telemetry).toContain('lookup_invoice ok in 230\u00a0ms');
    expect(await page.locator('#telemetry .state-chip[data-who="agent"]').textContent()).toBe('Speaking');
  });

  it('highlights a call with an alert like a caller who wants a human: on top, unmistakable, announced, in the details', async () => {
    await w.agentEvents(B, [customerTurn('If this is not fixed today I will cancel my account.')]);
    await page.waitForFunction(
      (room) => {
        const first = document.querySelector<HTMLElement>('#calls > li');
        return first?.dataset.room === room && first.dataset.alert === 'true';
      },
      B,
      { timeout: 5_000 },
    );
    const api = await details(B);
    const alert = api.alerts.find((a) => a.kind === 'phrase' && a.clearedAt === null);
    expect(alert, JSON.stringify(api.alerts)).toBeTruthy();
    expect((await rows())[0]).toBe(B);
    const badge = row(B).locator('.badge.alert');
    expect(await badge.textContent()).toBe('Phrase');
    expect(await badge.getAttribute('title')).toBe(alert!.message);
    expect(await badge.locator('svg').count()).toBe(1); // colour, icon and words
    const background = (room: string) =>
      row(room)
        .locator('.call-row')
        .evaluate((b) => getComputedStyle(b).backgroundColor);
    expect(await background(B)).not.toBe(await background(C));
    expect(await page.locator('#count-alerts').textContent()).toBe('1 call with an alert');
    await page.waitForFunction(() => (document.querySelector('#announce-urgent')?.textContent ?? '').includes('Alert, Phrase'));
    expect(await page.title()).toContain('Alert');

    await row(B).getByRole('button').click();
    await page.waitForFunction(() => document.querySelector('#details-heading')?.textContent === 'Grace Hopper');
    const banner = page.locator(`#details-alerts .alert-banner[data-alert-id="${alert!.id}"]`);
    await banner.waitFor();
    expect(await banner.textContent()).toContain(alert!.message);
    await page.locator('#telemetry .latency-table').waitFor();

    // Back to the call with the richest telemetry for the README's picture, the alert still on top.
    await row(A).getByRole('button').click();
    await page.waitForFunction(() => (document.querySelector('#telemetry')?.textContent ?? '').includes('send_receipt'));
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-live.png'), fullPage: true });
  });

  it('takes the highlight away when an alert clears, and keeps it in the details as cleared', async () => {
    const alerting = (room: string, on: boolean) =>
      page.waitForFunction(
        ([r, want]) => document.querySelector<HTMLElement>(`#calls > li[data-room="${r}"]`)?.dataset.alert === String(want),
        [room, on] as const,
        { timeout: 5_000 },
      );
    // Three slow replies in a row: p95 over the last three turns above 5 s.
    await w.agentEvents(C, [
      agentTurn('Hello?', 6200, 5100, 400),
      agentTurn('Are you there?', 6400, 5300, 400),
      agentTurn('Hello?', 7000, 5800, 500),
    ]);
    await alerting(C, true);
    expect(await row(C).locator('.badge.alert').textContent()).toBe('Slow replies');
    expect(await page.locator('#count-alerts').textContent()).toBe('2 calls with an alert');
    // Both on top (between them, oldest first: they started within the same second, so either order).
    expect((await rows()).slice(0, 2).sort()).toEqual([B, C].sort());
    await row(C).getByRole('button').click();
    await page.locator('#details-alerts .alert-banner[data-kind="latency_p95"]').waitFor();

    // Three quick ones: the condition no longer holds, the alert clears.
    await w.agentEvents(C, [
      agentTurn('Sorry about that.', 700, 300, 150),
      agentTurn('How can I help?', 650, 280, 140),
      agentTurn('Sure.', 600, 250, 130),
    ]);
    await alerting(C, false);
    const api = await details(C);
    expect(api.alerts.find((a) => a.kind === 'latency_p95')?.clearedAt).not.toBeNull();
    expect(await row(C).locator('.badge.alert').count()).toBe(0);
    expect(await page.locator('#count-alerts').textContent()).toBe('1 call with an alert');
    await page.locator('#details-alerts .alert-cleared[data-kind="latency_p95"]').waitFor();
    expect(await page.locator('#details-alerts .alert-banner').count()).toBe(0);
    expect(await page.locator('#details').getAttribute('data-alert')).toBe('false');
  });

  it("shows the last 24 hours in the analytics view: concurrency with today's peak, calls per hour, sentiment mix, per agent", async () => {
    await page.getByRole('link', { name: 'Analytics' }).click();
    await page.locator('#analytics[data-loaded="true"]').waitFor();
    expect(await page.locator('#board').isHidden()).toBe(true);
    expect(await page.getByRole('link', { name: 'Analytics' }).getAttribute('aria-current')).toBe('page');
    const to = Date.now();
    const stats = await w.api<Stats>('GET', `/v2/api/stats?from=${to - 86_400_000}&to=${to}&bucket=5m`);
    expect(stats.totals.calls).toBe(11);

    expect(await page.locator('#analytics-totals [data-key="calls"] dd').textContent()).toBe(String(stats.totals.calls));
    // Four at once yesterday, at most three today (now): the chart marks today's peak, not the day's maximum.
    expect(stats.totals.concurrencyPeak).toBe(4);
    expect(await page.locator('#analytics-totals [data-key="peak"] dd').textContent()).toMatch(/^4 at /);
    expect(await page.locator('#concurrency-peak').textContent()).toMatch(/^Today's peak: 3 at \d\d:\d\d/);
    expect(await page.locator('#chart-concurrency').getAttribute('data-peak')).toBe('3');
    expect(await page.locator('#chart-concurrency canvas').count()).toBe(1);
    expect(await page.locator('#chart-hourly canvas').count()).toBe(1);
    expect(await page.locator('#chart-hourly').getAttribute('aria-label')).toContain(`${stats.totals.calls} in all`);

    const legend = await page.$$eval('#sentiment-legend .count-row', (rs) =>
      rs.map((r) => [(r as HTMLElement).dataset.key, r.querySelector('dd')?.textContent]),
    );
    const sum = Object.values(stats.totals.sentiment).reduce((a, b) => a + b, 0);
    expect(legend).toEqual(
      (['positive', 'neutral', 'negative'] as const).map((s) => [
        s,
        `${stats.totals.sentiment[s]} (${Math.round((stats.totals.sentiment[s] / sum) * 100)}%)`,
      ]),
    );
    const agents = await page.$$eval('#agents-table tr', (trs) =>
      trs.map((tr) => [tr.querySelector('th')?.textContent, tr.querySelector('td')?.textContent]),
    );
    expect(agents).toEqual(
      [...stats.agents].sort((x, y) => y.calls - x.calls || x.agent.localeCompare(y.agent)).map((a) => [a.agent, String(a.calls)]),
    );
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'analytics.png'), fullPage: true });
  });

  it('reads on a phone: no sideways scrolling, charts as wide as the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => (document.querySelector('#chart-concurrency canvas')?.getBoundingClientRect().width ?? 999) <= 390);
    const layout = await page.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      chart: document.querySelector('#chart-concurrency canvas')?.getBoundingClientRect().width ?? 0,
    }));
    expect(layout.overflow).toBeLessThanOrEqual(0);
    expect(layout.chart).toBeGreaterThan(250);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'phone.png'), fullPage: true });

    await page.getByRole('link', { name: 'Live' }).click();
    await page.locator('#board').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('ran without a script error or a CSP violation', () => {
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
