/**
 * Translation of the session events that a text-only session cannot produce (the caller's speaking state
 * and false interruptions need audio), built with @livekit/agents' own event factories, and the limits
 * livecalls puts on ids, text and numbers.
 */
import { llm, voice } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import {
  epochMs,
  eventId,
  fromClose,
  fromConversationItem,
  fromFalseInterruption,
  fromUserState,
  storableText,
  usageTotals,
} from '../src/translate.ts';

const NOW = 1_800_000_000_000;

describe('translation', () => {
  it('caller state and false interruptions', () => {
    expect(fromUserState('k', 1, voice.createUserStateChangedEvent('listening', 'speaking', NOW), 0)).toEqual({
      id: 'k:cs:1',
      createdAt: NOW,
      type: 'customer_state',
      state: 'speaking',
    });
    expect(fromFalseInterruption('k', 2, voice.createAgentFalseInterruptionEvent({ resumed: true, createdAt: NOW }), 0)).toEqual({
      id: 'k:fi:2',
      createdAt: NOW,
      type: 'false_interruption',
      resumed: true,
    });
    expect(fromClose('k', voice.createCloseEvent(voice.CloseReason.PARTICIPANT_DISCONNECTED, null, NOW), 0)).toMatchObject({
      type: 'session_closed',
      reason: 'participant_disconnected',
    });
  });

  it("an interrupted agent turn with the agents' per-turn metrics (seconds) in milliseconds", () => {
    const item = llm.ChatMessage.create({
      role: 'assistant',
      content: 'Let me check that for',
      id: 'item_1',
      interrupted: true,
      createdAt: NOW,
      metrics: {
        e2eLatency: 1.2345,
        llmNodeTtft: 0.4,
        ttsNodeTtfb: 0.15,
        playbackLatency: 0.01,
        endOfTurnDelay: -1,
        transcriptionDelay: Number.NaN,
      },
    });
    expect(fromConversationItem('k', voice.createConversationItemAddedEvent(item, NOW), 0)).toEqual({
      id: 'k:msg:item_1',
      createdAt: NOW,
      type: 'transcript',
      role: 'agent',
      content: 'Let me check that for',
      interrupted: true,
      metrics: { e2eMs: 1235, llmTtftMs: 400, ttsTtfbMs: 150 },
    });
    const caller = llm.ChatMessage.create({ role: 'user', content: 'hi', metrics: { endOfTurnDelay: 0.5, transcriptionDelay: 900 } });
    expect(fromConversationItem('k', voice.createConversationItemAddedEvent(caller, NOW), 0)).toMatchObject({
      role: 'customer',
      metrics: { endOfTurnDelayMs: 500, transcriptionDelayMs: 600_000 },
    });
    const system = llm.ChatMessage.create({ role: 'system', content: 'secret instructions' });
    expect(fromConversationItem('k', voice.createConversationItemAddedEvent(system, NOW), 0)).toBeUndefined();
    const empty = llm.ChatMessage.create({ role: 'assistant', content: '   ' });
    expect(fromConversationItem('k', voice.createConversationItemAddedEvent(empty, NOW), 0)).toBeUndefined();
  });

  it('usage: per-model totals summed, STT audio in seconds', () => {
    expect(
      usageTotals({
        modelUsage: [
          { type: 'llm_usage', inputTokens: 100, outputTokens: 20, inputCachedTokens: 50 },
          { type: 'llm_usage', inputTokens: 1 },
          { type: 'tts_usage', charactersCount: 321 },
          { type: 'stt_usage', audioDurationMs: 12_345 },
          { type: 'eot_usage', totalRequests: 4 },
        ],
      }),
    ).toEqual({ llmPromptTokens: 101, llmCompletionTokens: 20, llmCachedTokens: 50, ttsCharacters: 321, sttSeconds: 12.345 });
  });

  it('ids, text and times livecalls accepts', () => {
    expect(eventId('s1', 'msg', 'item/ä b')).toBe('s1:msg:item---b');
    const long = eventId('s1', 'msg', 'x'.repeat(300));
    expect(long).toHaveLength(128);
    expect(long).toMatch(/^[A-Za-z0-9._:@-]+$/);
    expect(eventId('s1', 'msg', 'x'.repeat(300))).toBe(long);
    expect(eventId('s1', 'msg', 'y'.repeat(300))).not.toBe(long);
    expect(storableText(' a\u0000b\uD800c ', 100)).toBe('ab\uFFFDc');
    expect(storableText('ab😀', 3)).toBe('ab\uFFFD');
    expect(epochMs(1_800_000_000.5, 7)).toBe(1_800_000_000_500);
    expect(epochMs(undefined, 7)).toBe(7);
  });
});
