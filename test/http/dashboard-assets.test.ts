/**
 * How the dashboard's files are served: native ES modules from a folder, each relative import rewritten to
 * its target's versioned URL (so a module's version covers everything it imports), the same strict CSP on
 * every file, immutable caching only for the current version, and nothing outside the known files.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const MODULES = readdirSync(new URL('../../src/dashboard/js/', import.meta.url)).filter((f) => f.endsWith('.js'));

describe('dashboard assets', () => {
  let t: TestApp;
  let html = '';
  beforeAll(async () => {
    t = await createTestApp();
    html = (await t.app.inject({ method: 'GET', url: '/' })).body;
  });
  afterAll(async () => t.close());

  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  /** Follows the entry module's imports, as a browser would, and returns every module URL it loads. */
  async function crawl(): Promise<Map<string, string>> {
    const entry = /src="(\/dashboard\/app\.js\?v=[\w-]+)"/.exec(html)?.[1];
    expect(entry).toBeTruthy();
    const seen = new Map<string, string>();
    const queue = [entry!];
    while (queue.length > 0) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      seen.set(url, res.body);
      for (const [, spec] of res.body.matchAll(/\b(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
        // Every relative import carries a version: a bare one could mix two deployments in one cache.
        expect(spec, `${url} imports ${spec}`).toMatch(/^\.{1,2}\/[\w/.-]+\.js\?v=[\w-]{16}$/);
        queue.push(new URL(spec!, `http://x${url}`).pathname + new URL(spec!, 'http://x/').search);
      }
    }
    return seen;
  }

  it('serves every module in js/ through versioned imports, with the JS type, the CSP and immutable caching', async () => {
    const loaded = await crawl();
    const paths = [...loaded.keys()].map((u) => u.split('?')[0]);
    for (const name of MODULES) expect(paths).toContain(`/dashboard/js/${name}`);
    // The chart library comes from the installed package through a fixed URL, like any module of the page.
    expect(paths).toContain('/dashboard/vendor/uplot.js');
    for (const url of loaded.keys()) {
      const res = await get(url);
      expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      // Revalidation of a module answers 304 by its ETag.
      expect((await get(url, { 'if-none-match': String(res.headers.etag) })).statusCode).toBe(304);
    }
  });

  it("serves the chart library's stylesheet named by the page, versioned", async () => {
    const url = /href="(\/dashboard\/vendor\/uplot\.css\?v=[\w-]{16})"/.exec(html)?.[1];
    expect(url).toBeTruthy();
    const res = await get(url!);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.body).toContain('.uplot');
  });

  it('preloads the modules the entry needs, versioned, and not the lazily loaded analytics or chart library', async () => {
    const preloaded = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)"/g)].map((m) => m[1]!);
    for (const url of preloaded) expect(url).toMatch(/^\/dashboard\/js\/[a-z-]+\.js\?v=[\w-]{16}$/);
    const names = preloaded.map((u) => u.split('?')[0]!.replace('/dashboard/js/', ''));
    expect(names).toEqual(expect.arrayContaining(['api.js', 'board.js', 'details.js', 'dom.js', 'state.js', 'stream.js', 'telemetry.js']));
    expect(names).not.toContain('analytics.js');
    // Each preload is exactly the URL the modules import, so the browser uses what it preloaded.
    for (const url of preloaded) expect((await get(url)).headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('caches a bare or stale module URL only after revalidation', async () => {
    expect((await get('/dashboard/js/api.js')).headers['cache-control']).toBe('no-cache');
    expect((await get('/dashboard/js/api.js?v=stale')).headers['cache-control']).toBe('no-cache');
  });

  it('serves only the known files: no traversal, no other extension, no directory', async () => {
    for (const url of [
      '/dashboard/js/',
      '/dashboard/js',
      '/dashboard/js/nope.js',
      '/dashboard/js/../app.js.map',
      '/dashboard/js/..%2F..%2Fhttp%2Froutes%2Fdashboard.ts',
      '/dashboard/js/%2e%2e/%2e%2e/server.ts',
      '/dashboard/..%2F..%2Fpackage.json',
      '/dashboard/%2Fetc%2Fpasswd',
      '/dashboard/js/api.js%00.ts',
      '/dashboard/index.html',
      '/dashboard/vendor/',
      '/dashboard/vendor/../../package.json',
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('"dependencies"');
    }
  });
});
