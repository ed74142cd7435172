/**
 * A local OpenAI-compatible chat-completions server (node:http) for LLM insight tests: it records every
 * request and answers as the test says (a completion, a status, a held response, a closed socket).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: {
    model?: string;
    messages?: { role: string; content: string }[];
    response_format?: { type: string; json_schema?: { name: string; schema: unknown } };
  };
}

export type Reply =
  | { kind: 'answer'; content: string | object; status?: number }
  | { kind: 'raw'; status: number; body: string; headers?: Record<string, string> }
  /** Never answers until `release` (or the client gives up). */
  | { kind: 'hold' };

export interface ChatStandIn {
  /** Base URL, as LIVECALLS_LLM_URL takes it (ends in /v1). */
  url: string;
  requests: RecordedRequest[];
  /** How to answer the next requests; defaults to a valid insights answer. */
  reply: (req: RecordedRequest) => Reply;
  /** Requests being answered right now (held ones included). */
  open(): number;
  /** Most requests open at the same time so far. */
  maxOpen(): number;
  /** Answers every held request with `reply`. */
  release(reply?: Reply): void;
  close(): Promise<void>;
}

export const VALID_ANSWER = {
  summary: 'The customer lost their card and wants it blocked; the agent is blocking it.',
  topics: [{ topic: 'lost or stolen card', confidence: 0.93 }],
  suggestions: ['Block the card now and order a replacement.'],
  sentiment: 'negative',
  state: 'in progress',
};

export function completion(content: string | object): string {
  return JSON.stringify({
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 0,
    model: 'stand-in',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: typeof content === 'string' ? content : JSON.stringify(content) },
        finish_reason: 'stop',
      },
    ],
  });
}

function send(res: ServerResponse, reply: Exclude<Reply, { kind: 'hold' }>): void {
  if (res.writableEnded || res.destroyed) return;
  if (reply.kind === 'answer') {
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' }).end(completion(reply.content));
  } else {
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body);
  }
}

export async function startChatStandIn(): Promise<ChatStandIn> {
  const held = new Set<ServerResponse>();
  let open = 0;
  let maxOpen = 0;
  const standIn: ChatStandIn = {
    url: '',
    requests: [],
    reply: () => ({ kind: 'answer', content: VALID_ANSWER }),
    open: () => open,
    maxOpen: () => maxOpen,
    release(reply) {
      for (const res of held) send(res, reply && reply.kind !== 'hold' ? reply : { kind: 'answer', content: VALID_ANSWER });
      held.clear();
    },
    async close() {
      for (const res of held) res.destroy();
      held.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      res.on('close', () => {
        open -= 1;
        held.delete(res);
      });
      const text = Buffer.concat(chunks).toString('utf8');
      let body: RecordedRequest['body'] = {};
      try {
        body = JSON.parse(text) as RecordedRequest['body'];
      } catch {
        // recorded as empty: the test will see it
      }
      const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      standIn.requests.push(recorded);
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        send(res, { kind: 'raw', status: 404, body: '{"error":{"message":"not found"}}' });
        return;
      }
      const reply = standIn.reply(recorded);
      if (reply.kind === 'hold') held.add(res);
      else send(res, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return standIn;
}
