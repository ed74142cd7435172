/**
 * The live wallboard: `GET /` and its two assets, unauthenticated (the page asks for the API key itself and
 * talks to the API like any other client). Hidden from the OpenAPI document: it is not part of the API.
 *
 * Why it is served like this:
 *  - The files are read once, when the app is built: a request never touches the disk, and a deployment
 *    serves exactly the page it started with.
 *  - Asset URLs in the page carry a hash of their content, so browsers may keep an asset forever (a new
 *    version is a new URL) while the page itself is revalidated on every load (ETag, 304).
 *  - A strict Content-Security-Policy: the page has no inline script or style and loads nothing from
 *    elsewhere, so an injected string in a call's transcript can never run.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

const DIR = new URL('../../dashboard/', import.meta.url);

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

export function dashboardRoutes(): FastifyPluginAsync {
  return async (app) => {
    const read = (name: string) => readFile(new URL(name, DIR));
    const [html, js, css] = await Promise.all([read('index.html'), read('app.js'), read('styles.css')]);
    const script = asset(js, 'text/javascript; charset=utf-8');
    const styles = asset(css, 'text/css; charset=utf-8');
    const assets: Record<string, Asset> = { 'app.js': script, 'styles.css': styles };
    const page = asset(
      Buffer.from(
        html
          .toString('utf8')
          .replaceAll('/dashboard/app.js', `/dashboard/app.js?v=${script.version}`)
          .replaceAll('/dashboard/styles.css', `/dashboard/styles.css?v=${styles.version}`),
      ),
      'text/html; charset=utf-8',
    );

    const opts = { schema: { hide: true }, config: { rateLimit: false as const } };
    app.get('/', opts, async (request, reply) => send(request, reply, page, 'no-cache'));
    app.get<{ Params: { file: string }; Querystring: { v?: string } }>('/dashboard/:file', opts, async (request, reply) => {
      const file = Object.hasOwn(assets, request.params.file) ? assets[request.params.file] : undefined;
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
