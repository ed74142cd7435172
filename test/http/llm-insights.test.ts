/**
 * LLM insights through the whole app: agent events -> change listener -> the model (a local chat-completions
 * stand-in) -> GET insights with `source: "llm"`; offline meanwhile, offline again after a failure, and
 * neither ingest nor the insights request ever waits for the model.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startChatStandIn, VALID_ANSWER, type ChatStandIn } from '../helpers/chat-standin.ts';
import { postAgentEvents, turn } from '../helpers/livekit.ts';

const API_KEY = 'sk-http-test-KEEPOUT-77e1';

let t: TestApp;
let standIn: ChatStandIn;

beforeEach(async () => {
  standIn = await startChatStandIn();
  t = await createTestApp({
    LIVECALLS_LLM_URL: standIn.url,
    LIVECALLS_LLM_MODEL: 'stand-in-model',
    LIVECALLS_LLM_API_KEY: API_KEY,
    LIVECALLS_LLM_DEBOUNCE: '20ms',
    LIVECALLS_LLM_TIMEOUT: '30s',
  });
});
afterEach(async () => {
  await t.close();
  await standIn.close();
});

const insights = async (room: string, headers = t.ws.headers) => t.app.inject({ url: `/v2/api/active-calls/${room}/insights`, headers });

async function twoTurns(room: string): Promise<void> {
  const res = await postAgentEvents(
    t.app,
    room,
    [
      turn('customer', 'I lost my debit card yesterday.', t.clock.now - 2000),
      turn('agent', 'I can block it for you now.', t.clock.now - 1000),
    ],
    { headers: t.ws.headers },
  );
  expect(res.statusCode).toBeLessThan(300);
}

describe('GET insights with an LLM configured', () => {
  it('answers offline at once, then with the model once it has answered, naming the model', async () => {
    standIn.reply = () => ({ kind: 'hold' });
    await twoTurns('llm-room');
    // The model has not answered: ingest went through and insights answer from the offline models.
    await vi.waitFor(() => expect(standIn.open()).toBe(1), { timeout: 10_000 });
    // While the model holds its answer, ingest still goes through.
    const more = await postAgentEvents(t.app, 'llm-room', [turn('customer', 'Please hurry.', t.clock.now - 500)], {
      headers: t.ws.headers,
    });
    expect(more.statusCode).toBeLessThan(300);
    const before = (await insights('llm-room')).json();
    expect(before).toMatchObject({ source: 'offline', model: null, modelSentiment: null, generatedAt: null });
    expect(before.summary).not.toBe(VALID_ANSWER.summary);
    expect(before.topicDetails.every((d: { intent: string }) => d.intent !== 'llm')).toBe(true);

    standIn.reply = () => ({ kind: 'answer', content: VALID_ANSWER });
    standIn.release();
    // The turn that came while the model was busy is asked about next: then the result is up to date.
    await vi.waitFor(async () => expect((await insights('llm-room')).json()).toMatchObject({ source: 'llm', turnsBehind: 0 }), {
      timeout: 10_000,
    });
    const after = (await insights('llm-room')).json();
    expect(after).toMatchObject({
      source: 'llm',
      model: 'stand-in-model',
      turnsBehind: 0,
      summary: VALID_ANSWER.summary,
      topics: ['lost or stolen card'],
      topicDetails: [{ topic: 'lost or stolen card', intent: 'llm', confidence: 0.93 }],
      suggestions: VALID_ANSWER.suggestions,
      state: 'in progress',
      modelSentiment: 'negative',
    });
    // The call's own sentiment stays, so the list and the insights agree.
    const list = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
    expect(after.sentiment).toBe(list.data[0].sentiment);
    expect(new Date(after.generatedAt).toISOString()).toBe(after.generatedAt);

    expect(standIn.requests).toHaveLength(2);
    expect(JSON.stringify(standIn.requests[0]?.body)).toContain('I lost my debit card yesterday.');
    expect(JSON.stringify(standIn.requests[0]?.body)).not.toContain('Please hurry.');
    expect(JSON.stringify(standIn.requests[1]?.body)).toContain('Please hurry.');
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/livecalls_llm_requests_total\{result="ok"\} 2/);
    expect(metrics).not.toContain(API_KEY);
  });

  it('stays offline when the model fails, and another workspace never sees the result', async () => {
    standIn.reply = () => ({ kind: 'raw', status: 500, body: '{"error":"overloaded"}' });
    await twoTurns('failing-room');
    await vi.waitFor(
      async () => expect((await t.app.inject({ url: '/metrics' })).body).toMatch(/livecalls_llm_requests_total\{result="http_error"\} 1/),
      {
        timeout: 10_000,
      },
    );
    const res = await insights('failing-room');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ source: 'offline', model: null });

    standIn.reply = () => ({ kind: 'answer', content: VALID_ANSWER });
    await twoTurns('ok-room');
    await vi.waitFor(async () => expect((await insights('ok-room')).json().source).toBe('llm'), { timeout: 10_000 });
    const other = await t.newWorkspace('other');
    expect((await insights('ok-room', other.headers)).statusCode).toBe(404);
  });

  it('documents source and model in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    const schema = doc.paths['/v2/api/active-calls/{roomName}/insights'].get.responses['200'].content['application/json'].schema;
    expect(schema.properties.source.enum).toEqual(['llm', 'offline']);
    expect(schema.properties.model).toBeDefined();
    expect(schema.properties.turnsBehind).toBeDefined();
  });
});
