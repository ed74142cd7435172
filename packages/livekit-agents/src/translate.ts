/**
 * LiveKit Agents session events -> livecalls agent events. Pure: no I/O, the id scheme comes in as an
 * argument. Everything livecalls would refuse is made valid here (ids to the allowed alphabet, text to its
 * length limit, numbers finite and in range), so a refusal from livecalls means it does not know an event
 * type, not that the bridge built a bad one.
 *
 * Units: the agents' `ChatMessage.metrics` are in seconds (`e2eLatency`, `llmNodeTtft`, ...), livecalls
 * takes milliseconds.
 */
import { createHash } from 'node:crypto';
import type { llm, voice } from '@livekit/agents';
import type { ErrorSource, LivecallsEvent, ToolOutcome, TurnMetrics, UsageTotals } from './events.ts';

const ID_ALLOWED = /[^A-Za-z0-9._:@-]/g;
const ID_CLEAN = /^[A-Za-z0-9._:@-]{1,128}$/;
const MAX_ID = 128;
const MAX_DURATION_MS = 600_000;
const MAX_CONTENT = 10_000;
const MAX_TOOLS = 20;

/** Makes an event id: scoped by the session key, in the allowed alphabet, at most 128 characters. */
export function eventId(sessionKey: string, kind: string, suffix: string): string {
  const raw = `${sessionKey}:${kind}:${suffix}`;
  if (ID_CLEAN.test(raw)) return raw;
  const id = raw.replace(ID_ALLOWED, '-');
  if (id.length <= MAX_ID) return id;
  // Too long: keep it stable (the same input always gives the same id) and distinct.
  const digest = createHash('sha256').update(id).digest('base64url').slice(0, 22);
  return `${id.slice(0, MAX_ID - 23)}.${digest.replace(ID_ALLOWED, '-')}`;
}

/** Epoch ms as an integer; a value that looks like seconds is taken as seconds. */
export function epochMs(t: number | undefined, fallback: number): number {
  if (t === undefined || !Number.isFinite(t) || t <= 0) return fallback;
  return Math.round(t < 1e11 ? t * 1000 : t);
}

/** Text livecalls can store: well-formed UTF-16, no NUL, trimmed, at most `max` characters. */
export function storableText(s: string, max: number): string {
  if (!s.includes('\u0000') && !SURROGATE.test(s)) {
    const t = s.trim();
    return t.length > max ? wellFormed(t.slice(0, max)) : t;
  }
  let t = wellFormed(s).replaceAll('\u0000', '').trim();
  if (t.length > max) t = wellFormed(t.slice(0, max));
  return t;
}

/** Text without NUL or any surrogate needs no repair (the common case, checked first). */
const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

function ms(seconds: number | undefined): number | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined;
  return Math.min(MAX_DURATION_MS, Math.round(seconds * 1000));
}

function count(n: number | undefined): number {
  return n !== undefined && Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

export function turnMetrics(m: llm.MetricsReport): TurnMetrics | undefined {
  const out: TurnMetrics = {};
  const e2e = ms(m.e2eLatency);
  const llm = ms(m.llmNodeTtft);
  const tts = ms(m.ttsNodeTtfb);
  const eot = ms(m.endOfTurnDelay);
  const stt = ms(m.transcriptionDelay);
  if (e2e !== undefined) out.e2eMs = e2e;
  if (llm !== undefined) out.llmTtftMs = llm;
  if (tts !== undefined) out.ttsTtfbMs = tts;
  if (eot !== undefined) out.endOfTurnDelayMs = eot;
  if (stt !== undefined) out.transcriptionDelayMs = stt;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function fromConversationItem(sk: string, ev: voice.ConversationItemAddedEvent, now: number): LivecallsEvent | undefined {
  const item = ev.item;
  if (item.type !== 'message' || (item.role !== 'user' && item.role !== 'assistant')) return undefined;
  const content = storableText(item.textContent ?? '', MAX_CONTENT);
  if (content.length === 0) return undefined;
  const metrics = turnMetrics(item.metrics ?? {});
  return {
    id: eventId(sk, 'msg', item.id),
    createdAt: epochMs(item.createdAt, epochMs(ev.createdAt, now)),
    type: 'transcript',
    role: item.role === 'user' ? 'customer' : 'agent',
    content,
    interrupted: item.interrupted === true,
    ...(metrics ? { metrics } : {}),
  };
}

export function fromAgentState(sk: string, seq: number, ev: voice.AgentStateChangedEvent, now: number): LivecallsEvent {
  return { id: eventId(sk, 'as', String(seq)), createdAt: epochMs(ev.createdAt, now), type: 'agent_state', state: ev.newState };
}

export function fromUserState(sk: string, seq: number, ev: voice.UserStateChangedEvent, now: number): LivecallsEvent {
  return { id: eventId(sk, 'cs', String(seq)), createdAt: epochMs(ev.createdAt, now), type: 'customer_state', state: ev.newState };
}

export function fromFalseInterruption(sk: string, seq: number, ev: voice.AgentFalseInterruptionEvent, now: number): LivecallsEvent {
  return {
    id: eventId(sk, 'fi', String(seq)),
    createdAt: epochMs(ev.createdAt, now),
    type: 'false_interruption',
    resumed: ev.resumed === true,
  };
}

export function fromToolsExecuted(sk: string, seq: number, ev: voice.FunctionToolsExecutedEvent, now: number): LivecallsEvent | undefined {
  const tools: ToolOutcome[] = [];
  ev.functionCalls.forEach((call, i) => {
    if (tools.length >= MAX_TOOLS) return;
    const out = ev.functionCallOutputs[i];
    const name = storableText(call.name || 'unknown', 128) || 'unknown';
    const tool: ToolOutcome = { name, ok: out ? !out.isError : false };
    // From the model asking for the call to its output being recorded: what the caller waited for.
    if (out && Number.isFinite(out.createdAt) && Number.isFinite(call.createdAt) && out.createdAt >= call.createdAt) {
      tool.durationMs = Math.min(MAX_DURATION_MS, Math.round(out.createdAt - call.createdAt));
    }
    if (out?.isError) {
      const error = storableText(out.output ?? '', 500);
      if (error) tool.error = error;
    }
    tools.push(tool);
  });
  if (tools.length === 0) return undefined;
  return { id: eventId(sk, 'tools', String(seq)), createdAt: epochMs(ev.createdAt, now), type: 'tools_executed', tools };
}

/** Sums the session's per-model usage into the totals livecalls keeps. */
export function usageTotals(usage: voice.AgentSessionUsage): UsageTotals {
  let prompt = 0;
  let completion = 0;
  let cached = 0;
  let chars = 0;
  let sttMs = 0;
  for (const u of usage.modelUsage) {
    if (u.type === 'llm_usage') {
      prompt += count(u.inputTokens);
      completion += count(u.outputTokens);
      cached += count(u.inputCachedTokens);
    } else if (u.type === 'tts_usage') {
      chars += count(u.charactersCount);
    } else if (u.type === 'stt_usage') {
      sttMs += u.audioDurationMs !== undefined && Number.isFinite(u.audioDurationMs) && u.audioDurationMs > 0 ? u.audioDurationMs : 0;
    }
  }
  return {
    llmPromptTokens: prompt,
    llmCompletionTokens: completion,
    llmCachedTokens: cached,
    ttsCharacters: chars,
    sttSeconds: Math.round(sttMs) / 1000,
  };
}

export function sameUsage(a: UsageTotals | undefined, b: UsageTotals): boolean {
  return (
    a !== undefined &&
    a.llmPromptTokens === b.llmPromptTokens &&
    a.llmCompletionTokens === b.llmCompletionTokens &&
    a.llmCachedTokens === b.llmCachedTokens &&
    a.ttsCharacters === b.ttsCharacters &&
    a.sttSeconds === b.sttSeconds
  );
}

export function fromUsage(sk: string, seq: number, totals: UsageTotals, createdAt: number): LivecallsEvent {
  return { id: eventId(sk, 'usage', String(seq)), createdAt, type: 'usage', ...totals };
}

const SOURCES: Record<string, ErrorSource> = {
  llm_error: 'llm',
  stt_error: 'stt',
  tts_error: 'tts',
  realtime_model_error: 'realtime',
};

export function fromError(sk: string, seq: number, ev: voice.ErrorEvent, now: number): LivecallsEvent {
  const e = ev.error;
  const source = SOURCES[e.type] ?? 'other';
  const inner = e instanceof Error ? e.message : e.error instanceof Error ? e.error.message : String(e.error);
  const label = e.label ? `${e.label}: ` : '';
  const message = storableText(`${label}${inner || e.type}`, 1000) || e.type;
  return {
    id: eventId(sk, 'err', String(seq)),
    createdAt: epochMs(ev.createdAt, now),
    type: 'agent_error',
    source,
    message,
    recoverable: e.recoverable === true,
  };
}

export function fromClose(sk: string, ev: voice.CloseEvent, now: number): LivecallsEvent {
  const reason = storableText(String(ev.reason ?? ''), 200) || 'unknown';
  return { id: eventId(sk, 'closed', '0'), createdAt: epochMs(ev.createdAt, now), type: 'session_closed', reason };
}
