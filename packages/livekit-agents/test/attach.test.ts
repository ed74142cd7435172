/** attachLivecalls on a real AgentSession (FakeLLM, no LiveKit server), posting to a real local HTTP server. */
import { initializeLogger, voice, type JobContext } from '@livekit/agents';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attachLivecalls, type JobContextLike, type LivecallsBridge } from '../src/attach.ts';
import type { LivecallsEvent } from '../src/events.ts';
import { startSession, USAGE_PER_REPLY } from './helpers/agent.ts';
import { eventually, startReceiver, type Receiver } from './helpers/receiver.ts';

const KEY = 'bridge-test-key';
const SECRET = 'bridge-test-secret-0123456789abcdefghij';
const quiet = { warn: () => undefined };
/** A worker passes its JobContext as is: checked by the type checker. */
export const fromJobContext = (ctx: JobContext): JobContextLike => ctx;

let rx: Receiver;
let sessions: voice.AgentSession[] = [];

beforeAll(() => initializeLogger({ pretty: false, level: 'fatal' }));
afterAll(() => undefined);
afterEach(async () => {
  for (const s of sessions) await s.close().catch(() => undefined);
  sessions = [];
  await rx?.close();
});

function ctxFor(room: string, sid = 'RM_test1'): JobContextLike {
  return { room: { name: room }, job: { room: { name: room, sid, metadata: JSON.stringify({ workspaceId: 'ws_test' }) } } };
}

function sent(): LivecallsEvent[] {
  return rx.received.flatMap((r) => r.body.events);
}
function ofType<T extends LivecallsEvent['type']>(type: T): Extract<LivecallsEvent, { type: T }>[] {
  return sent().filter((e): e is Extract<LivecallsEvent, { type: T }> => e.type === type);
}

async function conversation(session: voice.AgentSession): Promise<void> {
  await session.run({ userInput: 'Hello, I need to move my appointment' }).wait();
  await session.run({ userInput: 'Monday please' }).wait();
}

describe('attachLivecalls on a real AgentSession', () => {
  it("sends the session's turns, states, tools, usage, errors and close, scoped by the session", async () => {
    rx = await startReceiver();
    const { session, model } = await startSession();
    sessions.push(session);
    const bridge = attachLivecalls(session, ctxFor('front-desk'), { url: rx.url, apiKey: KEY, apiSecret: SECRET, logger: quiet });
    expect(bridge.enabled).toBe(true);

    await conversation(session);
    // A provider reporting a rate limit, the way an LLM plugin does: on the model's own emitter.
    model.emit('error', {
      type: 'llm_error',
      timestamp: Date.now(),
      label: 'fake-llm',
      error: new Error('429 Too Many Requests'),
      recoverable: true,
    });
    await session.close();
    expect(await eventually(() => ofType('session_closed').length === 1)).toBe(true);

    const transcript = ofType('transcript');
    expect(transcript.map((t) => [t.role, t.content])).toEqual([
      ['customer', 'Hello, I need to move my appointment'],
      ['agent', 'Of course. Which day suits you?'],
      ['customer', 'Monday please'],
      ['agent', 'Monday is full, sorry. Would Tuesday work?'],
    ]);
    expect(transcript.every((t) => t.interrupted === false)).toBe(true);
    // FakeLLM waits `ttft` (120 ms) before its first token: the turn's time to first token is at least that.
    expect(transcript[1]!.metrics?.llmTtftMs).toBeGreaterThanOrEqual(100);

    const states = ofType('agent_state').map((e) => e.state);
    expect(states).toEqual(expect.arrayContaining(['thinking', 'speaking', 'listening']));
    expect(ofType('tools_executed')).toEqual([
      expect.objectContaining({
        tools: [expect.objectContaining({ name: 'book', ok: false, error: expect.stringContaining('fully booked') as string })],
      }),
    ]);
    const tool = ofType('tools_executed')[0]!.tools[0]!;
    expect(tool.durationMs).toBeGreaterThanOrEqual(0);

    // Three model calls (reply, tool call, reply after the tool): cumulative totals, newest last.
    const usage = ofType('usage');
    expect(usage.at(-1)).toMatchObject({
      llmPromptTokens: 3 * USAGE_PER_REPLY.promptTokens,
      llmCompletionTokens: 3 * USAGE_PER_REPLY.completionTokens,
      llmCachedTokens: 3 * USAGE_PER_REPLY.promptCachedTokens,
    });
    expect(ofType('agent_error')).toEqual([
      expect.objectContaining({ source: 'llm', recoverable: true, message: 'fake-llm: 429 Too Many Requests' }),
    ]);
    expect(ofType('session_closed')).toEqual([expect.objectContaining({ reason: 'user_initiated' })]);

    const ids = sent().map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id.startsWith(`${bridge.sessionKey}:`) && /^[A-Za-z0-9._:@-]{1,128}$/.test(id))).toBe(true);
    expect(rx.received.every((r) => r.headers['x-workspace-id'] === 'ws_test' && r.body.roomSid === 'RM_test1')).toBe(true);
    // The receiver has the last batch; the bridge counts it as sent once the answer is back.
    expect(await eventually(() => bridge.stats().inFlight === 0)).toBe(true);
    const stats = bridge.stats();
    expect(stats).toMatchObject({ sent: ids.length, failed: 0, dropped: 0, queued: 0, inFlight: 0 });
    expect(stats.events).toBe(stats.sent + stats.merged);
  });

  it('keeps two sessions in one room apart', async () => {
    rx = await startReceiver();
    const bridges: LivecallsBridge[] = [];
    for (let i = 0; i < 2; i++) {
      const { session } = await startSession();
      sessions.push(session);
      bridges.push(attachLivecalls(session, ctxFor('shared-room'), { url: rx.url, apiKey: KEY, apiSecret: SECRET, logger: quiet }));
      await session.run({ userInput: 'Hello, I need to move my appointment' }).wait();
    }
    for (const b of bridges) await b.flush(5_000);
    const [a, b] = bridges.map((br) => sent().filter((e) => e.id.startsWith(`${br.sessionKey}:`)));
    expect(a!.length).toBeGreaterThan(2);
    expect(b!.length).toBeGreaterThan(2);
    expect(a!.length + b!.length).toBe(sent().length);
    expect(a!.filter((e) => e.type === 'transcript')).toHaveLength(2);
    expect(b!.filter((e) => e.type === 'transcript')).toHaveLength(2);
  });

  it('never throws into the session: livecalls unreachable, a malformed event, missing settings', async () => {
    rx = await startReceiver();
    const deadUrl = rx.url;
    await rx.close(); // nothing listens there now
    const { session } = await startSession();
    sessions.push(session);
    const warnings: string[] = [];
    const bridge = attachLivecalls(session, ctxFor('front-desk'), {
      url: deadUrl,
      apiKey: KEY,
      apiSecret: SECRET,
      maxAttempts: 2,
      retryBaseMs: 5,
      logger: { warn: (_f, msg) => warnings.push(msg) },
    });
    expect(() => session.emit(voice.AgentSessionEventTypes.ConversationItemAdded, { item: null } as never)).not.toThrow();
    await session.run({ userInput: 'Hello, I need to move my appointment' }).wait();
    await bridge.flush(5_000);
    expect(await eventually(() => bridge.stats().failed > 0 && bridge.stats().inFlight === 0 && bridge.stats().queued === 0)).toBe(true);
    expect(bridge.stats().sent).toBe(0);
    expect(warnings).toEqual(expect.arrayContaining(['livecalls: could not translate an event', 'livecalls: giving up on a batch']));

    const none = attachLivecalls(session, { room: {} }, { url: deadUrl, apiKey: KEY, apiSecret: SECRET, logger: quiet });
    expect(none.enabled).toBe(false);
    rx = await startReceiver(); // for afterEach
  });
});

describe('the job context', () => {
  it("picks up the room sid once the room knows it; the job's shutdown waits for the flush the session's close began", async () => {
    rx = await startReceiver();
    const { session } = await startSession();
    sessions.push(session);
    let shutdown: (() => Promise<void>) | undefined;
    let connect: (sid: string) => void = () => undefined;
    const ctx: JobContextLike = {
      room: { name: 'late-sid', getSid: () => new Promise<string>((resolve) => (connect = resolve)) },
      addShutdownCallback: (cb) => (shutdown = cb),
    };
    const bridge = attachLivecalls(session, ctx, { url: rx.url, apiKey: KEY, apiSecret: SECRET, logger: quiet, flushIntervalMs: 60_000 });
    await session.run({ userInput: 'Hello, I need to move my appointment' }).wait();
    expect(rx.received).toHaveLength(0); // waiting for the interval
    connect('RM_late');
    await new Promise((r) => setImmediate(r));
    expect(shutdown).toBeDefined();
    // As a job ends: the session closes first (its close event starts the flush), then shutdown callbacks run.
    await session.close();
    await shutdown!();
    expect(ofType('transcript')).toHaveLength(2);
    expect(ofType('session_closed')).toHaveLength(1);
    expect(rx.received.every((r) => r.body.roomSid === 'RM_late')).toBe(true);
    expect(bridge.stats()).toMatchObject({ queued: 0, failed: 0 });
  });
});
