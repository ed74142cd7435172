/**
 * Generated ended calls for the history benchmark: deterministic (seeded), spread over the last `days` days,
 * with 20 agents, 100 x 200 caller names, phone numbers, 4-turn transcripts drawn from a few phrases, about
 * a third of the calls negative, one in ten with a transfer, and one in a thousand longer than 6 hours.
 */
import { mulberry32 } from '../../src/analysis/seeded-random.ts';
import { newCall, type Call, type Turn } from '../../src/domain/call.ts';

export const AGENTS = Array.from({ length: 20 }, (_, i) => `Agent ${i + 1}`);
const FIRST = Array.from({ length: 100 }, (_, i) => `Fn${i.toString(36)}x`);
export const LAST = Array.from({ length: 200 }, (_, i) => `Ln${i.toString(36)}q`);
const CUSTOMER = [
  'I was charged twice on my card',
  'my parcel never arrived and I am upset',
  'I want to change my delivery address',
  'can you tell me my account balance',
  'I need to cancel my subscription',
  'the app keeps crashing when I log in',
  'thanks, that is great help',
  'I would like a refund please',
];
const AGENT = [
  'I can help you with that, let me check',
  'sorry about that, I am looking into it now',
  'your request has been processed',
  'is there anything else I can do for you',
];

export interface GeneratedCall {
  call: Call;
  transcript: Turn[];
}

export function historyGenerator(workspaceId: string, total: number, endAt: number, days: number, seed = 14) {
  const rnd = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const span = days * 86_400_000;
  return function nth(i: number): GeneratedCall {
    const start = Math.floor(endAt - span + (span * i) / total + rnd() * 1000);
    const long = rnd() < 0.001;
    const duration = long ? 7 * 3_600_000 : Math.floor(30_000 + rnd() * rnd() * 900_000);
    // Unique across generators of different seeds (the baseline workspace shares the database).
    const id = seed.toString(16).padStart(4, '0') + i.toString(16).padStart(20, '0');
    const negative = rnd() < 0.33;
    const transfer = rnd() < 0.1;
    const phone = rnd() < 0.6;
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    const turns: Turn[] = [];
    for (let t = 0; t < 4; t++) {
      const role = t % 2 ? 'agent' : 'customer';
      const content = role === 'agent' ? pick(AGENT) : `${pick(CUSTOMER)}, order ${Math.floor(rnd() * 1e6)}`;
      turns.push({ id: `t${t}`, role, content, at: start + 5_000 + t * 10_000 });
    }
    const base = newCall(id, workspaceId, `room-${i}`, start);
    const call: Call = {
      ...base,
      roomSid: `RM_${i}`,
      roomCreatedAt: start,
      endedAt: start + duration,
      lastActivityAt: start + duration,
      endReason: 'room_finished',
      agentName: { value: pick(AGENTS), at: start, id: 'a' },
      customerName: { value: name, at: start, id: 'n' },
      customerPhone: phone ? { value: `+1415${String(Math.floor(rnd() * 1e7)).padStart(7, '0')}`, at: start, id: 'p' } : null,
      participants: phone
        ? [{ sid: `PA_${i}`, identity: 'caller', name: '', kind: 'sip', joinedAt: start, left: true, metadata: '', attributes: {} }]
        : [],
      turnCount: turns.length,
      transfer: transfer ? { value: 'asked for a person', at: start, id: 'x' } : null,
      sentiment: negative ? 'negative' : rnd() < 0.5 ? 'neutral' : 'positive',
      sentimentScore: negative ? -0.5 : 0.2,
      outcome: { topics: ['billing'], summary: `Call from ${name} about billing.` },
    };
    return { call, transcript: turns };
  };
}
