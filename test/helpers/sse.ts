/** A Server-Sent Events client for tests, over node:http so a test can also stop reading (a slow client). */
import http from 'node:http';

export interface SseFrame {
  event: string;
  id: string | undefined;
  data: string;
}

export interface SseClient {
  status: number;
  frames: SseFrame[];
  comments: string[];
  ended: Promise<void>;
  /** Waits for the first frame (from `from` on) that matches; fails after `timeoutMs`. */
  next(match: (f: SseFrame) => boolean, timeoutMs?: number, from?: number): Promise<SseFrame>;
  json<T = unknown>(f: SseFrame): T;
  pause(): void;
  resume(): void;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const frames: SseFrame[] = [];
      const comments: string[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let endedResolve: () => void = () => undefined;
      const ended = new Promise<void>((r) => (endedResolve = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const frame: SseFrame = { event: 'message', id: undefined, data: '' };
          let isFrame = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) {
              frame.event = line.slice(7);
              isFrame = true;
            } else if (line.startsWith('id: ')) frame.id = line.slice(4);
            else if (line.startsWith('data: ')) {
              frame.data += line.slice(6);
              isFrame = true;
            }
          }
          if (isFrame) frames.push(frame);
        }
        for (const w of waiters) w();
      });
      res.on('end', () => {
        endedResolve();
        for (const w of waiters) w();
      });
      res.on('close', () => endedResolve());
      const client: SseClient = {
        status: res.statusCode ?? 0,
        frames,
        comments,
        ended,
        next(match, timeoutMs = 3_000, from = 0) {
          return new Promise((resolveNext, rejectNext) => {
            const check = () => {
              const found = frames.slice(from).find(match);
              if (found) {
                waiters.delete(check);
                clearTimeout(timer);
                resolveNext(found);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rejectNext(new Error(`no matching SSE frame within ${timeoutMs} ms; got: ${frames.map((f) => f.event).join(', ')}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        json: <T>(f: SseFrame) => JSON.parse(f.data) as T,
        pause: () => res.pause(),
        resume: () => res.resume(),
        close: () => req.destroy(),
      };
      if ((res.statusCode ?? 0) !== 200) {
        let body = '';
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          client.frames.push({ event: 'http-error', id: undefined, data: body });
          resolve(client);
        });
        return;
      }
      resolve(client);
    });
    req.on('error', reject);
  });
}
