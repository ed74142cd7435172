/**
 * The wallboard end to end: the real server process (first-start bootstrap gives the key), the LiveKit
 * stand-in (so end-call really deletes a room and LiveKit's webhooks really end the call), calls driven
 * through the real ingest path over HTTP (signed webhooks, signed agent events), and the page in real
 * headless Chromium. Leaves a screenshot in test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/server-process.ts';
import { chromiumAvailable, launchChromium, startWorld, type World } from './world.ts';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');

const A = 'call-billing';
const B = 'call-delivery';
const C = 'call-web';

describe.skipIf(!chromiumAvailable())('live dashboard in headless Chromium', () => {
  let w: World;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const say = (role: 'agent' | 'customer', content: string) => ({ type: 'transcript', role, content });

  type ListItem = { roomName: string; aiAgentName: string; type: string; sentiment: string };
  const activeCalls = async () => (await w.api<{ data: ListItem[] }>('GET', '/v2/api/active-calls')).data;

  const rows = () => page.$$eval('#calls > li', (lis) => lis.map((li) => (li as HTMLElement).dataset.room));
  const counts = (id: string) =>
    page.$$eval(`#${id} .count-row`, (rows) =>
      Object.fromEntries(rows.map((r) => [r.querySelector('dt')?.textContent, Number(r.querySelector('dd')?.textContent)])),
    );
  const row = (room: string) => page.locator(`#calls > li[data-room="${room}"]`);

  beforeAll(async () => {
    // An empty store on first start: the server creates a workspace and prints its key once.
    w = await startWorld();
    await w.startCall(A, 'Billing Agent', { phone: '+14155550101' });
    await w.agentEvents(A, [
      { type: 'customer_info', name: 'Ada Lovelace' },
      say('agent', 'Hello, this is the billing line. How can I help?'),
      say('customer', 'I have a question about my latest invoice.'),
    ]);
    await w.startCall(B, 'Support Agent', { phone: '+14155550102' });
    await w.agentEvents(B, [say('customer', 'My order never arrived and I am really upset about it.')]);
    await w.startCall(C, 'Support Agent', 'web');
    await w.agentEvents(C, [say('customer', 'Thanks, the new app is great!')]);

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await w?.close();
  });

  it('serves the page and its assets with types, cache headers and a strict CSP, outside the API docs', async () => {
    const res = await fetch(`${w.server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    const again = await fetch(`${w.server.url}/`, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);

    const scriptUrl = /src="(\/dashboard\/app\.js\?v=[\w-]+)"/.exec(html)?.[1];
    const styleUrl = /href="(\/dashboard\/styles\.css\?v=[\w-]+)"/.exec(html)?.[1];
    expect(scriptUrl && styleUrl).toBeTruthy();
    const js = await fetch(`${w.server.url}${scriptUrl}`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const css = await fetch(`${w.server.url}${styleUrl}`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    // A URL without the current version must not be cached for ever.
    expect((await fetch(`${w.server.url}/dashboard/app.js?v=old`)).headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${w.server.url}/dashboard/nope.js`)).status).toBe(404);
    expect((await fetch(`${w.server.url}/dashboard/..%2Fapp.ts`)).status).toBe(404);

    const openapi = (await (await fetch(`${w.server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).filter((p) => p === '/' || p.startsWith('/dashboard'))).toEqual([]);
  });

  it('refuses a wrong key clearly, then signs in and shows every call with its counts', async () => {
    await page.goto(`${w.server.url}/`);
    await page.getByLabel('API key').fill('lc_0000000000000000_wrong');
    await page.getByLabel('Workspace id').fill(w.workspaceId);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.locator('#sign-in-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toContain('not accepted');
    expect(await page.getByLabel('API key').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    await page.getByLabel('API key').fill(w.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="live"]').waitFor();
    expect(await page.locator('#connection').textContent()).toContain('Live');
    await page.waitForFunction(() => document.querySelectorAll('#calls > li').length === 3);
    expect(await rows()).toEqual([A, B, C]); // oldest first, as the API orders them
    const a = (await row(A).textContent()) ?? '';
    expect(a).toContain('Ada Lovelace');
    expect(a).toContain('+14155550101');
    expect(a).toContain('Billing Agent');
    expect(a).toContain('I have a question about my latest invoice.');

    expect(await page.locator('#count-total').textContent()).toBe('3');
    expect(await counts('count-agent')).toEqual({ 'Support Agent': 2, 'Billing Agent': 1 });
    expect(await counts('count-type')).toEqual({ Phone: 2, Web: 1 });
    // Sentiment is the server's to score; the board counts what the API says.
    const bySentiment: Record<string, number> = { Positive: 0, Neutral: 0, Negative: 0 };
    for (const c of await activeCalls()) bySentiment[c.sentiment[0]?.toUpperCase() + c.sentiment.slice(1)]! += 1;
    expect(await counts('count-sentiment')).toEqual(bySentiment);
    expect(await row(B).getAttribute('data-sentiment')).toBe('negative');
    expect(await row(C).getAttribute('data-sentiment')).toBe('positive');

    // The key lives in this tab's session storage only: it survives a reload, nothing else holds it.
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['livecalls.dashboard']);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await context.cookies()).toEqual([]);
    await page.reload();
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#calls > li').length === 3);
  });

  it('ticks durations every second without any new event', async () => {
    const seconds = async () => {
      const [m, s] = ((await row(A).locator('.call-duration-value').textContent()) ?? '').split(':').map(Number);
      return (m ?? 0) * 60 + (s ?? 0);
    };
    const before = await seconds();
    await page.waitForFunction(
      ([room, was]) => {
        const text = document.querySelector(`#calls > li[data-room="${room}"] .call-duration-value`)?.textContent ?? '';
        const [m, s] = text.split(':').map(Number);
        return (m ?? 0) * 60 + (s ?? 0) >= was + 2;
      },
      [A, before] as const,
      { timeout: 5_000 },
    );
    expect(await seconds()).toBeGreaterThanOrEqual(before + 2);
  });

  it('opens a call by keyboard and shows a new transcript turn within a second of the ingest answer', async () => {
    await row(A).getByRole('button').focus();
    await page.keyboard.press('Enter');
    const details = page.locator('#details');
    await details.waitFor({ state: 'visible' });
    expect(await page.locator('#details-heading').textContent()).toBe('Ada Lovelace');
    await page.waitForFunction(() => document.querySelectorAll('#transcript .turn').length === 2);
    await page.locator('#insights .insight-summary').waitFor();
    const insights = () => page.locator('#insights').textContent();
    expect(await insights()).toContain('billing');
    expect(await insights()).not.toContain('cancellation');
    expect(await page.locator('#details-facts').textContent()).toContain('Billing Agent');

    const text = 'Can I pay that invoice in three instalments? Otherwise I will cancel my subscription.';
    await w.agentEvents(A, [say('customer', text)]);
    // The product's freshness promise, measured from the ingest's 2xx: the list and the open transcript.
    await page.waitForFunction(
      ([room, t]) =>
        (document.querySelector(`#calls > li[data-room="${room}"] .call-last`)?.textContent ?? '').includes(t) &&
        document.querySelector('#transcript .turn:last-child .turn-text')?.textContent === t,
      [A, text] as const,
      { timeout: 1_000 },
    );
    expect(await page.locator('#transcript .turn').count()).toBe(3);
    // Insights follow the conversation (refreshed at most every few seconds).
    await page.waitForFunction(() => (document.querySelector('#insights')?.textContent ?? '').includes('cancellation'), undefined, {
      timeout: 10_000,
    });
  });

  it('puts a caller who asked for a human on top, unmistakably, and announces it', async () => {
    await w.agentEvents(C, [
      say('customer', 'I want to talk to a real person please.'),
      { type: 'transfer_requested', reason: 'asked for a human' },
    ]);
    await page.waitForFunction(
      (room) => {
        const first = document.querySelector<HTMLElement>('#calls > li');
        return first?.dataset.room === room && first.dataset.transfer === 'true';
      },
      C,
      { timeout: 5_000 },
    );
    expect(await rows()).toEqual([C, A, B]);
    const flagged = row(C);
    // Colour, icon and words, not colour alone.
    expect(await flagged.locator('.badge.transfer').isVisible()).toBe(true);
    expect(await flagged.locator('.badge.transfer').textContent()).toBe('Wants a human');
    expect(await flagged.locator('.badge.transfer svg').count()).toBe(1);
    expect(await row(A).locator('.badge.transfer').isVisible()).toBe(false);
    const border = (room: string) =>
      row(room)
        .locator('.call-row')
        .evaluate((b) => getComputedStyle(b).borderLeftColor);
    expect(await border(C)).not.toBe(await border(A));
    expect(await page.locator('#count-transfer').textContent()).toBe('1 wants a human');
    await page.waitForFunction(() => (document.querySelector('#announce-urgent')?.textContent ?? '').includes('Transfer requested'));
    expect(await page.locator('#announce-urgent').getAttribute('role')).toBe('alert');
    expect(await page.title()).toContain('Transfer requested');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  });

  it('fits a phone screen in one column', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const layout = await page.evaluate(() => {
      const calls = document.querySelector('.calls')?.getBoundingClientRect();
      const details = document.querySelector('#details')?.getBoundingClientRect();
      return {
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        callsBottom: calls?.bottom ?? 0,
        detailsTop: details?.top ?? 0,
      };
    });
    expect(layout.overflow).toBeLessThanOrEqual(0);
    expect(layout.detailsTop).toBeGreaterThanOrEqual(layout.callsBottom);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("shows LiveKit's refusal when ending a call fails, and keeps the call", async () => {
    w.lk.failWith = { status: 403, code: 'permission_denied', msg: 'permissions denied', method: 'livekit.RoomService/DeleteRoom' };
    try {
      await page.getByRole('button', { name: 'End call', exact: true }).click();
      await page.locator('#confirm-end').getByRole('button', { name: 'End call' }).click();
      const error = page.locator('#details-error');
      await error.waitFor({ state: 'visible' });
      expect(await error.textContent()).toContain('Could not end the call: LiveKit refused the request: permission_denied');
    } finally {
      w.lk.failWith = undefined;
    }
    expect(await rows()).toContain(A);
    expect(w.lk.deleted).toEqual([]);
  });

  it('ends a call only after confirmation, and the call leaves the board', async () => {
    const endButton = page.getByRole('button', { name: 'End call', exact: true });
    expect(await endButton.isEnabled()).toBe(true);
    await endButton.click();
    const dialog = page.locator('#confirm-end');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toContain(A);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(w.lk.deleted).toEqual([]);
    expect(await rows()).toContain(A);

    // The board before and after, for the README: the end goes through the simulated LiveKit and back.
    await page.screenshot({ path: path.join(ROOT, 'docs/screenshots/end-call-before.png') });
    await endButton.click();
    await dialog.getByRole('button', { name: 'End call' }).click();
    await page.waitForFunction((room) => !document.querySelector(`#calls > li[data-room="${room}"]`), A);
    await page.locator('#details-ended').waitFor({ state: 'visible' });
    await page.screenshot({ path: path.join(ROOT, 'docs/screenshots/end-call-after.png') });
    expect(await page.locator('#details [data-fact="duration"]').textContent()).toMatch(/^\d+:\d\d \(ended\)$/);
    expect(await endButton.isDisabled()).toBe(true);
    expect(w.lk.deleted).toEqual([A]);
    expect((await activeCalls()).map((c) => c.roomName)).toEqual([B, C]);
    expect(await page.locator('#count-total').textContent()).toBe('2');
    expect(await rows()).toEqual([C, B]);
  });

  it('shows when it is reconnecting, and is live again with a fresh token after a server restart', async () => {
    await w.server.kill();
    await page.locator('#connection[data-state="reconnecting"]').waitFor();
    expect(await page.locator('#connection').textContent()).toContain('Reconnecting');
    await w.restart();
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 20_000 });
    const text = 'Hello again, are you still there?';
    await w.agentEvents(B, [say('agent', text)]);
    await page.waitForFunction(
      ([room, t]) => (document.querySelector(`#calls > li[data-room="${room}"] .call-last`)?.textContent ?? '').includes(t),
      [B, text] as const,
    );
    expect(await rows()).toEqual([C, B]);
  });

  it('signs out: the key is forgotten and the board is gone', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.locator('#board').isHidden()).toBe(true);
    await page.reload();
    await page.getByLabel('API key').waitFor();
    expect(await page.locator('#board').isHidden()).toBe(true);

    expect(pageErrors).toEqual([]);
    // The only console errors are the refused requests this test provoked (wrong key, LiveKit refusal, server
    // down); a CSP violation or a script error would show here.
    expect(consoleErrors.filter((m) => !m.startsWith('Failed to load resource'))).toEqual([]);
  });
});
