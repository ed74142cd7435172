/**
 * What the model must answer: the insights' own fields (summary, topics, suggestions, call state) plus its
 * reading of the customer's mood. Sent to the server as a JSON schema (structured outputs) and checked again
 * here with zod, because a server in JSON mode, or one that ignores the schema, may answer anything.
 *
 * Why the JSON schema is written by hand rather than generated: OpenAI's strict mode accepts a subset of JSON
 * Schema (every property required, `additionalProperties: false`, no length keywords on some servers), and a
 * generated one drifts from that subset without anyone noticing. Lengths are therefore enforced here, by
 * trimming what is too long, while a wrong type, a missing field or an unknown enum value rejects the answer.
 */
import { z } from 'zod';
import type { CallState, SentimentLabel } from '../types.ts';

export const LLM_MAX_SUMMARY = 400;
export const LLM_MAX_TOPICS = 3;
export const LLM_MAX_SUGGESTIONS = 3;
const MAX_TOPIC = 60;
const MAX_SUGGESTION = 240;

const SENTIMENTS = ['positive', 'neutral', 'negative'] as const satisfies readonly SentimentLabel[];
const STATES = ['resolved', 'unresolved', 'transferred', 'waiting', 'in progress'] as const satisfies readonly CallState[];

const clip = (max: number) =>
  z
    .string()
    .transform((s) => s.trim().replace(/\s+/g, ' '))
    .transform((s) => (s.length <= max ? s : `${s.slice(0, max - 1).trimEnd()}…`));

export const llmAnswerSchema = z.object({
  summary: clip(LLM_MAX_SUMMARY).pipe(z.string().min(1)),
  topics: z
    .array(z.object({ topic: clip(MAX_TOPIC).pipe(z.string().min(1)), confidence: z.number().min(0).max(1) }))
    .transform((t) => t.slice(0, LLM_MAX_TOPICS)),
  suggestions: z.array(clip(MAX_SUGGESTION)).transform((s) => s.filter((x) => x !== '').slice(0, LLM_MAX_SUGGESTIONS)),
  sentiment: z.enum(SENTIMENTS),
  state: z.enum(STATES),
});

export type LlmAnswer = z.output<typeof llmAnswerSchema>;

/** The schema as `response_format.json_schema` carries it (strict-mode compatible). */
export const LLM_JSON_SCHEMA = {
  name: 'call_insights',
  strict: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['summary', 'topics', 'suggestions', 'sentiment', 'state'],
    properties: {
      summary: {
        type: 'string',
        description: 'who called, why, what has happened so far and how the customer is now; one or two sentences',
      },
      topics: {
        type: 'array',
        description: 'what the call is about, most relevant first, at most 3',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['topic', 'confidence'],
          properties: {
            topic: { type: 'string', description: 'a short topic name, lower case' },
            confidence: { type: 'number', description: '0..1' },
          },
        },
      },
      suggestions: { type: 'array', description: 'next best actions for the agent, at most 3', items: { type: 'string' } },
      sentiment: { type: 'string', enum: [...SENTIMENTS], description: 'how the customer is doing now' },
      state: { type: 'string', enum: [...STATES], description: 'what has happened in the call so far' },
    },
  },
} as const;
