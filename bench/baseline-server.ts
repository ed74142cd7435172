/**
 * The list baselines: a bare node:http server answering every request with the same list payload that
 * livecalls served, either (a) `stringify`: JSON.stringify of the array for every request (with a fresh
 * timestamp, as a list answer has), or (b) `bytes`: the same bytes serialised once (the limit of this machine
 * for that payload). And a reference that is not a target: (c) `fastify`, the same bytes from a bare Fastify
 * route (no plugins, no hooks), the floor of any Fastify route sending that payload.
 * Usage: node --import tsx bench/baseline-server.ts stringify|bytes|fastify PAYLOAD.json PORT
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [mode, file, port] = process.argv.slice(2);
if ((mode !== 'stringify' && mode !== 'bytes' && mode !== 'fastify') || !file || !port) {
  console.error('usage: baseline-server.ts stringify|bytes|fastify PAYLOAD.json PORT');
  process.exit(2);
}
const list = JSON.parse(readFileSync(file, 'utf8')) as { data: unknown[]; count: number };
const bytes = Buffer.from(JSON.stringify({ data: list.data, count: list.count, timestamp: new Date().toISOString() }));

if (mode === 'fastify') {
  const app = Fastify({ logger: false });
  app.get('/', (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(bytes));
  await app.listen({ port: Number(port), host: '127.0.0.1' });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
} else {
  const server = http.createServer((_req, res) => {
    const body = mode === 'bytes' ? bytes : JSON.stringify({ data: list.data, count: list.count, timestamp: new Date().toISOString() });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(port), '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
