/**
 * The bridge's cost on the agent side: the synchronous time spent inside a session's `emit` when
 * attachLivecalls listens (translation + queueing), against a no-op listener on the same events of a real
 * AgentSession, in the same run; and how many events per second reach a local HTTP server answering 202.
 *
 *   npm run bench -w @livecalls/livekit-agents          (or: npx tsx packages/livekit-agents/bench/overhead.ts)
 *
 * Prints ratios, not verdicts: absolute figures depend on the machine. The bridged time includes the garbage
 * collection that delivery (JSON, signing) causes and that lands inside the measured emits.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initializeLogger, llm, voice } from '@livekit/agents';
import { attachLivecalls } from '../src/attach.ts';

const N = Number(process.env.BENCH_EVENTS ?? 60_000);
const CHUNK = 1_000;
const ROUNDS = 5;

type Emitted = [voice.AgentSessionEventTypes, unknown];

/** A realistic mix: per turn, two state changes, one final turn with metrics, one usage update. */
function workload(n: number): Emitted[] {
  const T = voice.AgentSessionEventTypes;
  const out: Emitted[] = [];
  const states: voice.AgentState[] = ['listening', 'thinking', 'speaking'];
  for (let i = 0; out.length < n; i++) {
    out.push([T.AgentStateChanged, voice.createAgentStateChangedEvent(states[i % 3]!, states[(i + 1) % 3]!)]);
    out.push([T.UserStateChanged, voice.createUserStateChangedEvent('listening', 'speaking')]);
    const item = llm.ChatMessage.create({
      role: i % 2 ? 'assistant' : 'user',
      content: 'I would like to move my appointment to Tuesday afternoon if that is possible.',
      metrics: { e2eLatency: 0.82, llmNodeTtft: 0.31, ttsNodeTtfb: 0.12 },
    });
    out.push([T.ConversationItemAdded, voice.createConversationItemAddedEvent(item)]);
    out.push([
      T.SessionUsageUpdated,
      voice.createSessionUsageUpdatedEvent({ usage: { modelUsage: [{ type: 'llm_usage', inputTokens: 100 * i, outputTokens: 20 * i }] } }),
    ]);
  }
  return out.slice(0, n);
}

/** ns per event spent synchronously in emit, measured over chunks, yielding between them so delivery runs. */
async function emitCost(session: voice.AgentSession, events: Emitted[]): Promise<number> {
  let ns = 0n;
  for (let i = 0; i < events.length; i += CHUNK) {
    const end = Math.min(events.length, i + CHUNK);
    const t0 = process.hrtime.bigint();
    for (let j = i; j < end; j++) {
      const [type, ev] = events[j]!;
      session.emit(type, ev as never);
    }
    ns += process.hrtime.bigint() - t0;
    await new Promise((r) => setImmediate(r));
  }
  return Number(ns) / events.length;
}

async function main(): Promise<void> {
  initializeLogger({ pretty: false, level: 'fatal' });
  let received = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received += (JSON.parse(Buffer.concat(chunks).toString()) as { events: unknown[] }).events.length;
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"applied":0,"duplicates":0}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const events = workload(N);
  const handledTypes = new Set(events.map(([t]) => t));

  const baseline: number[] = [];
  const bridged: number[] = [];
  let throughput = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const plain = new voice.AgentSession({});
    for (const t of handledTypes) plain.on(t, () => undefined);
    baseline.push(await emitCost(plain, events));

    const session = new voice.AgentSession({});
    const bridge = attachLivecalls(
      session,
      { room: { name: 'bench-room' } },
      {
        url,
        apiKey: 'bench-key',
        apiSecret: 'bench-secret-0123456789abcdefghijkl',
        batchSize: 100,
        maxQueue: N,
        logger: { warn: () => undefined },
      },
    );
    received = 0;
    const t0 = performance.now();
    bridged.push(await emitCost(session, events));
    await bridge.flush(60_000);
    const s = bridge.stats();
    if (round > 0) throughput = Math.max(throughput, s.sent / ((performance.now() - t0) / 1000));
    if (s.failed + s.dropped > 0) console.error('bench: events lost', s);
    if (received < s.sent) console.error('bench: server saw fewer than sent', received, s.sent);
  }
  server.close();

  // The fastest round of each: on a shared machine the others measure the neighbours.
  const b = Math.min(...baseline.slice(1));
  const w = Math.min(...bridged.slice(1));
  console.log(`events per round: ${N} (state changes, turns with metrics, usage updates), rounds: ${ROUNDS} (first is warm-up)`);
  console.log(`no-op listener:     ${b.toFixed(0)} ns per event in emit`);
  console.log(`attachLivecalls:    ${w.toFixed(0)} ns per event in emit`);
  console.log(`overhead:           ${(w - b).toFixed(0)} ns per event (${(w / b).toFixed(1)}x the no-op baseline)`);
  console.log(
    `delivered:          ${Math.round(throughput).toLocaleString('en-US')} events/s to a local HTTP server (batches of 100, signed)`,
  );
}

void main();
