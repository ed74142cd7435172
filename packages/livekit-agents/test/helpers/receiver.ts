/** A real local HTTP server standing in for livecalls' events route: records requests, answers as scripted. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventsBody } from '../../src/events.ts';

export interface Received {
  at: number;
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: EventsBody;
}

/** Answers one request: a status (and headers), `'drop'` to cut the connection, or a promise to hold it. */
export type Answer = number | { status: number; headers?: Record<string, string> } | 'drop' | Promise<number>;

export interface Receiver {
  url: string;
  received: Received[];
  /** Decides each answer; default 202. */
  answer: (req: Received) => Answer;
  ids(): string[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const r: Receiver = {
    url: '',
    received: [],
    answer: () => 202,
    ids: () => r.received.flatMap((x) => x.body.events.map((e) => e.id)),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const rec: Received = { at: Date.now(), path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) as EventsBody };
      r.received.push(rec);
      const a = r.answer(rec);
      if (a === 'drop') {
        req.socket.destroy();
        return;
      }
      void Promise.resolve(a).then((answer) => {
        const status = typeof answer === 'number' ? answer : answer.status;
        const headers = typeof answer === 'number' ? {} : (answer.headers ?? {});
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(
          JSON.stringify(status < 300 ? { applied: rec.body.events.length, duplicates: 0 } : { error: { code: 'x', message: 'scripted' } }),
        );
      });
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return r;
}

/** Polls until `cond` holds (or `withinMs` passes); returns whether it held. */
export async function eventually(cond: () => boolean, withinMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
