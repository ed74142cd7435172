/** The sender against a real local HTTP server: batching, retries with the same ids, the bounded queue, flush on close. */
import { createHash } from 'node:crypto';
import { TokenVerifier } from 'livekit-server-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LivecallsEvent } from '../src/events.ts';
import { EventSender, type SenderOptions } from '../src/sender.ts';
import { retryAfter } from '../src/wire.ts';
import { roomSigner } from '../src/sign.ts';
import { eventually, startReceiver, type Receiver } from './helpers/receiver.ts';

const KEY = 'bridge-test-key';
const SECRET = 'bridge-test-secret-0123456789abcdefghij';
const ROOM = 'room one/ä';

let rx: Receiver;
let senders: EventSender[] = [];
const quiet = { warn: () => undefined };

beforeEach(async () => {
  rx = await startReceiver();
});
afterEach(async () => {
  await Promise.all(senders.map((s) => s.close(200)));
  senders = [];
  await rx.close();
});

function sender(o: Partial<SenderOptions> = {}): EventSender {
  const s = new EventSender({ url: rx.url, roomName: ROOM, authorize: roomSigner(KEY, SECRET, ROOM), logger: quiet, retryBaseMs: 5, ...o });
  senders.push(s);
  return s;
}

let n = 0;
function turn(content = 'hello'): Extract<LivecallsEvent, { type: 'transcript' }> {
  n++;
  return { id: `t-${n}`, createdAt: 1_800_000_000_000 + n, type: 'transcript', role: 'agent', content };
}
function state(): LivecallsEvent {
  n++;
  return { id: `s-${n}`, createdAt: 1_800_000_000_000 + n, type: 'agent_state', state: 'thinking' };
}

describe('batching', () => {
  it('sends what arrives within the interval as one request, to the room-scoped route, signed for that room', async () => {
    const s = sender({ flushIntervalMs: 30 });
    const events = [turn(), turn(), turn()];
    for (const e of events) s.push(e);
    expect(rx.received).toHaveLength(0); // push never sends inline
    expect(await eventually(() => s.stats().sent === 3)).toBe(true);
    expect(rx.received).toHaveLength(1);
    const req = rx.received[0]!;
    expect(req.path).toBe(`/v2/api/active-calls/${encodeURIComponent(ROOM)}/events`);
    expect(req.body.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
    const claims = await new TokenVerifier(KEY, SECRET).verify(String(req.headers.authorization));
    expect(claims.video?.room).toBe(ROOM);
    expect(claims.sha256).toBe(createHash('sha256').update(req.raw).digest('base64'));
  });

  it('splits a burst into batches of batchSize, in order', async () => {
    const s = sender({ batchSize: 50, flushIntervalMs: 1_000 });
    const events = Array.from({ length: 120 }, () => turn());
    for (const e of events) s.push(e);
    expect(await eventually(() => s.stats().sent === 120)).toBe(true);
    expect(rx.received.map((r) => r.body.events.length)).toEqual([50, 50, 20]);
    expect(rx.ids()).toEqual(events.map((e) => e.id));
  });

  it('sends x-workspace-id and roomSid when it has them', async () => {
    const s = sender({ workspaceId: 'ws_1', roomSid: () => 'RM_abc' });
    s.push(turn());
    expect(await eventually(() => s.stats().sent === 1)).toBe(true);
    expect(rx.received[0]!.headers['x-workspace-id']).toBe('ws_1');
    expect(rx.received[0]!.body.roomSid).toBe('RM_abc');
  });
});

describe('retries', () => {
  it('resends the same ids after 503, a dropped connection and 429, then counts them sent once', async () => {
    const answers: ('drop' | number)[] = [503, 'drop', 429];
    rx.answer = () => answers.shift() ?? 202;
    const s = sender();
    const events = [turn(), turn()];
    for (const e of events) s.push(e);
    expect(await eventually(() => s.stats().sent === 2)).toBe(true);
    expect(rx.received).toHaveLength(4);
    for (const r of rx.received) expect(r.body.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(s.stats()).toMatchObject({ sent: 2, retried: 6, failed: 0, dropped: 0, requests: 4 });
  });

  it("waits as long as a 429's Retry-After asks", async () => {
    let first = true;
    rx.answer = () => {
      if (!first) return 202;
      first = false;
      return { status: 429, headers: { 'retry-after': '1' } };
    };
    const s = sender({ retryBaseMs: 1 });
    s.push(turn());
    expect(await eventually(() => s.stats().sent === 1)).toBe(true);
    expect(rx.received[1]!.at - rx.received[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('gives up after maxAttempts and counts the batch failed', async () => {
    rx.answer = () => 500;
    const s = sender({ maxAttempts: 3 });
    s.push(turn());
    expect(await eventually(() => s.stats().failed === 1)).toBe(true);
    expect(rx.received).toHaveLength(3);
    expect(s.stats()).toMatchObject({ sent: 0, retried: 2, failed: 1 });
  });

  it('does not retry a 401', async () => {
    rx.answer = () => 401;
    const s = sender();
    s.push(turn());
    expect(await eventually(() => s.stats().failed === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(rx.received).toHaveLength(1);
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfter('2')).toBe(2_000);
    expect(retryAfter(null)).toBeUndefined();
    expect(retryAfter('soon')).toBeUndefined();
    const d = retryAfter(new Date(Date.now() + 60_000).toUTCString())!;
    expect(d).toBeGreaterThan(50_000);
    expect(d).toBeLessThanOrEqual(60_000);
  });
});

describe('refusals', () => {
  it('isolates an event type livecalls refuses, delivers the rest, and stops sending that type', async () => {
    rx.answer = (req) => (req.body.events.some((e) => e.type === 'agent_state') ? 400 : 202);
    const s = sender({ flushIntervalMs: 20 });
    const batch = [turn(), state(), turn(), turn(), state(), turn()];
    for (const e of batch) s.push(e);
    expect(await eventually(() => s.stats().sent === 4 && s.stats().rejected === 2)).toBe(true);
    expect(new Set(rx.ids().filter((id) => id.startsWith('t-')))).toEqual(
      new Set(batch.filter((e) => e.type === 'transcript').map((e) => e.id)),
    );
    const requests = rx.received.length;
    s.push(state());
    s.push(turn());
    expect(await eventually(() => s.stats().sent === 5)).toBe(true);
    expect(s.stats().rejected).toBe(3);
    expect(rx.received).toHaveLength(requests + 1);
    expect(rx.received.at(-1)!.body.events.map((e) => e.type)).toEqual(['transcript']);
  });

  it('leaves roomSid out from then on when livecalls refuses it', async () => {
    rx.answer = (req) => (req.body.roomSid !== undefined ? 400 : 202);
    const s = sender({ roomSid: () => 'RM_x' });
    s.push(turn());
    s.push(turn());
    expect(await eventually(() => s.stats().sent === 2)).toBe(true);
    s.push(turn());
    expect(await eventually(() => s.stats().sent === 3)).toBe(true);
    expect(rx.received.map((r) => r.body.roomSid)).toEqual(['RM_x', undefined, undefined]);
    expect(s.stats().rejected).toBe(0);
  });
});

describe('bounded queue', () => {
  it('keeps at most maxQueue waiting events, drops the oldest and counts them', async () => {
    let release: (status: number) => void = () => undefined;
    const held = new Promise<number>((r) => (release = r));
    rx.answer = () => (rx.received.length === 1 ? held : 202);
    const s = sender({ batchSize: 5, maxQueue: 10, flushIntervalMs: 5 });
    const first = Array.from({ length: 5 }, () => turn());
    for (const e of first) s.push(e);
    expect(await eventually(() => rx.received.length === 1)).toBe(true); // in flight, held
    const rest = Array.from({ length: 30 }, () => turn());
    for (const e of rest) s.push(e);
    expect(s.stats()).toMatchObject({ queued: 10, dropped: 20 });
    release(202);
    expect(await eventually(() => s.stats().sent === 15)).toBe(true);
    expect(rx.ids()).toEqual([...first, ...rest.slice(20)].map((e) => e.id));
    expect(s.stats()).toMatchObject({ queued: 0, dropped: 20, sent: 15 });
  });

  it('keeps one waiting usage total, the newest', async () => {
    const s = sender({ flushIntervalMs: 30 });
    for (let i = 1; i <= 5; i++) s.push({ id: `u-${i}`, createdAt: 1_800_000_000_000 + i, type: 'usage', llmPromptTokens: i * 10 });
    expect(s.stats()).toMatchObject({ queued: 1, merged: 4 });
    expect(await eventually(() => s.stats().sent === 1)).toBe(true);
    expect(rx.received[0]!.body.events).toEqual([{ id: 'u-1', createdAt: 1_800_000_000_005, type: 'usage', llmPromptTokens: 50 }]);
  });
});

describe('close', () => {
  it('flushes what is waiting without waiting for the interval', async () => {
    const s = sender({ flushIntervalMs: 60_000 });
    const events = [turn(), turn(), turn()];
    for (const e of events) s.push(e);
    await s.close(5_000);
    expect(rx.ids()).toEqual(events.map((e) => e.id));
    expect(s.stats()).toMatchObject({ sent: 3, failed: 0, queued: 0 });
    s.push(turn());
    expect(s.stats().dropped).toBe(1);
  });

  it('gives up at its deadline when livecalls keeps failing, counting what was not delivered', async () => {
    rx.answer = () => 503;
    const s = sender({ batchSize: 2, retryBaseMs: 50, maxAttempts: 100 });
    for (let i = 0; i < 5; i++) s.push(turn());
    await s.close(300);
    const after = s.stats();
    expect(after.sent).toBe(0);
    expect(after).toMatchObject({ failed: 5, queued: 0, inFlight: 0 });
    await new Promise((r) => setTimeout(r, 200));
    expect(s.stats().requests).toBe(after.requests); // nothing more after close
  });
});

describe('a livecalls without telemetry', () => {
  it('takes plain turns: interrupted and metrics are left out from then on, telemetry types are not sent again', async () => {
    rx.answer = (req) =>
      req.body.roomSid !== undefined || req.body.events.some((e) => e.type !== 'transcript' || 'interrupted' in e || 'metrics' in e)
        ? 400
        : 202;
    const s = sender({ roomSid: () => 'RM_x', flushIntervalMs: 10 });
    const rich = (): LivecallsEvent => ({ ...turn(), interrupted: true, metrics: { e2eMs: 900 } });
    for (const e of [rich(), state(), rich()]) s.push(e);
    expect(await eventually(() => s.stats().sent === 2 && s.stats().rejected === 1)).toBe(true);
    const requests = rx.received.length;
    s.push(rich());
    s.push(state());
    expect(await eventually(() => s.stats().sent === 3)).toBe(true);
    expect(rx.received).toHaveLength(requests + 1);
    expect(rx.received.at(-1)!.body).toEqual({ events: [expect.not.objectContaining({ interrupted: true })] });
    expect(s.stats()).toMatchObject({ rejected: 2, failed: 0 });
  });
});
