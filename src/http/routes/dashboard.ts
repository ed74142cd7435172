/**
 * The live wallboard: `GET /` and its assets under `/dashboard/`, unauthenticated (the page asks for the
 * API key itself and talks to the API like any other client). Hidden from the OpenAPI document: it is not
 * part of the API.
 *
 * Why it is served like this:
 *  - The files are read once, when the app is built: a request never touches the disk, and a deployment
 *    serves exactly the page it started with. Only the files in that table are served, by exact URL, so no
 *    path (`..`, encoded or not) can reach anything else.
 *  - The scripts are native ES modules (no build step). Asset URLs carry a hash of their content (`?v=`),
 *    and every relative import inside a module is rewritten to its target's versioned URL, so a module's
 *    hash covers everything it imports: browsers may keep any versioned asset for ever (a new version is a
 *    new URL) while the page itself is revalidated on every load (ETag, 304).
 *  - The charting library (uPlot, MIT) is served from the installed package through a fixed URL, not a
 *    CDN: the page still loads nothing from elsewhere.
 *  - A strict Content-Security-Policy: the page has no inline script or style and loads nothing from
 *    elsewhere, so an injected string in a call's transcript can never run.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

const DIR = new URL('../../dashboard/', import.meta.url);
const PREFIX = '/dashboard/';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** Content hash carried in the asset's URL (`?v=`). */
  version: string;
}

function asset(body: Buffer, type: string): Asset {
  const version = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  return { body, type, etag: `"${version}"`, version };
}

function send(request: FastifyRequest, reply: FastifyReply, file: Asset, cacheControl: string): FastifyReply {
  void reply.headers({ ...SECURITY_HEADERS, 'cache-control': cacheControl, etag: file.etag, vary: 'accept-encoding' });
  const inm = request.headers['if-none-match'];
  if (inm && inm.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) return reply.status(304).send();
  return reply.type(file.type).send(file.body);
}

/** `import … from './x.js'`, `export … from '../y.js'`, `import './z.js'` and `import('./w.js')`: the relative specifiers. */
const IMPORT = /(\b(?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"\s]+)\2/g;

interface Modules {
  assets: Map<string, Asset>;
  /** url -> the urls it imports statically (not `import()`), which a browser fetches before running it. */
  imports: Map<string, string[]>;
}

/**
 * Versions ES modules: each module's relative imports are rewritten to `url?v=<hash of the target as
 * served>`, dependencies first. An import of a file not in the table, or a cycle, fails at start-up.
 */
function versionModules(sources: Map<string, Buffer>, fixed: Map<string, Asset>): Modules {
  const done = new Map<string, Asset>();
  const imports = new Map<string, string[]>();
  const visiting = new Set<string>();
  const build = (url: string): Asset => {
    const ready = done.get(url) ?? fixed.get(url);
    if (ready) return ready;
    const source = sources.get(url);
    if (!source) throw new Error(`dashboard: ${url} is imported but not served`);
    if (visiting.has(url)) throw new Error(`dashboard: import cycle through ${url}`);
    visiting.add(url);
    const statics: string[] = [];
    const text = source.toString('utf8').replace(IMPORT, (_m, head: string, quote: string, spec: string) => {
      const target = new URL(spec, `http://x${url}`).pathname;
      if (!head.includes('(')) statics.push(target);
      return `${head}${quote}${spec}?v=${build(target).version}${quote}`;
    });
    visiting.delete(url);
    imports.set(url, statics);
    const built = asset(Buffer.from(text), JS);
    done.set(url, built);
    return built;
  };
  for (const url of sources.keys()) build(url);
  return { assets: done, imports };
}

/** Every module `entry` needs before it runs, itself excluded: what the page preloads. */
function staticClosure(entry: string, imports: Map<string, string[]>): string[] {
  const seen = new Set<string>();
  const visit = (url: string) => {
    for (const dep of imports.get(url) ?? []) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      visit(dep);
    }
  };
  visit(entry);
  return [...seen].sort();
}

/** The dashboard's files, keyed by the exact URL path each is served at. */
async function loadAssets(): Promise<{ page: Asset; assets: Map<string, Asset> }> {
  const read = (name: string) => readFile(new URL(name, DIR));
  const require = createRequire(import.meta.url);
  const vendor = new Map<string, Asset>([
    [`${PREFIX}vendor/uplot.js`, asset(await readFile(require.resolve('uplot/dist/uPlot.esm.js')), JS)],
    [`${PREFIX}vendor/uplot.css`, asset(await readFile(require.resolve('uplot/dist/uPlot.min.css')), CSS)],
  ]);
  const modules = new Map<string, Buffer>([[`${PREFIX}app.js`, await read('app.js')]]);
  for (const name of (await readdir(new URL('js/', DIR))).sort()) {
    if (/^[a-z][a-z0-9-]*\.js$/.test(name)) modules.set(`${PREFIX}js/${name}`, await read(`js/${name}`));
  }
  const versioned = versionModules(modules, vendor);
  const assets = new Map<string, Asset>([...vendor, ...versioned.assets]);
  assets.set(`${PREFIX}styles.css`, asset(await read('styles.css'), CSS));

  // The entry's imports are named in the page too, so the browser fetches them all at once instead of
  // discovering them one level of imports at a time.
  const preload = staticClosure(`${PREFIX}app.js`, versioned.imports)
    .map((url) => `    <link rel="modulepreload" href="${url}" />\n`)
    .join('');
  // Every asset URL the page names gets its version; a name the table does not have fails at start-up.
  const html = (await read('index.html'))
    .toString('utf8')
    .replace('  </head>', `${preload}  </head>`)
    .replace(/(\b(?:src|href)=")(\/dashboard\/[^"?]+)"/g, (_m, head: string, url: string) => {
      const file = assets.get(url);
      if (!file) throw new Error(`dashboard: index.html names ${url}, which is not served`);
      return `${head}${url}?v=${file.version}"`;
    });
  return { page: asset(Buffer.from(html), 'text/html; charset=utf-8'), assets };
}

export function dashboardRoutes(): FastifyPluginAsync {
  return async (app) => {
    const { page, assets } = await loadAssets();

    const opts = { schema: { hide: true }, config: { rateLimit: false as const } };
    app.get('/', opts, async (request, reply) => send(request, reply, page, 'no-cache'));
    app.get<{ Params: { '*': string }; Querystring: { v?: string } }>(`${PREFIX}*`, opts, async (request, reply) => {
      const file = assets.get(`${PREFIX}${request.params['*']}`);
      if (!file) {
        reply.callNotFound();
        return reply;
      }
      // Only the current version's URL is immutable; an old or bare URL must not pin a stale copy.
      const immutable = request.query.v === file.version;
      return send(request, reply, file, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    });
  };
}
