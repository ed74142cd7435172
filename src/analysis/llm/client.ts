/**
 * A minimal client for OpenAI-compatible chat completions (`POST {url}/chat/completions`): OpenAI, vLLM,
 * Ollama, LiteLLM. Node's own fetch, no SDK: one request shape and one answer shape are all livecalls needs,
 * and an SDK's retries and timeouts would fight the service's own (see service.ts).
 *
 * Errors are classified where they enter (habit 17): every failure becomes an `LlmError` with a `kind`, from
 * the status code, the abort reason or the parse step, never from message text. Messages are composed here
 * from the status and the error code alone: no response body, no header, so the API key cannot leak into a
 * log line or an error.
 *
 * Structured output: `response_format: {type: "json_schema"}` by default. A server that refuses it (400 or
 * 422, e.g. an older vLLM or a LiteLLM route to a model without it) is asked again at once with
 * `{type: "json_object"}` (JSON mode, the schema in the prompt instead), and keeps being asked that way.
 */
import { z } from 'zod';
import type { ChatMessage } from './prompt.ts';
import { LLM_JSON_SCHEMA, llmAnswerSchema, type LlmAnswer } from './schema.ts';

export type LlmFailure = 'timeout' | 'rate_limited' | 'http_error' | 'connection' | 'malformed' | 'schema' | 'aborted';

export class LlmError extends Error {
  override name = 'LlmError';
  constructor(
    readonly kind: LlmFailure,
    message: string,
    /** From a 429's (or 503's) Retry-After, when the server sent one. */
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ChatClientOptions {
  /** Base URL without the trailing slash, e.g. http://localhost:11434/v1 */
  url: string;
  model: string;
  apiKey: string | undefined;
  responseFormat: 'json_schema' | 'json_object';
}

const envelopeSchema = z.object({
  choices: z
    .array(z.object({ message: z.object({ content: z.string().nullable().optional(), refusal: z.string().nullable().optional() }) }))
    .min(1),
});

/** Seconds or an HTTP date, as RFC 9110 allows; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** An answer is a few hundred bytes; a bigger one is not read to the end (a broken or hostile server). */
export const MAX_ANSWER_BYTES = 1024 * 1024;

async function readCapped(res: Response, max: number): Promise<string> {
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    // Leaving the loop cancels the stream: the rest is never read.
    if (size > max) {
      throw new LlmError('malformed', `the LLM answer is larger than ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The JSON inside a JSON-mode answer; some models wrap it in a ```json fence anyway. */
function unfence(content: string): string {
  const m = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(content);
  return m?.[1] ?? content;
}

function errorCode(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return err instanceof Error ? err.name : 'unknown';
}

export class ChatCompletionsClient {
  private format: 'json_schema' | 'json_object';
  /** Set when the server refused json_schema and JSON mode took over (for one log line). */
  downgraded = false;

  constructor(private readonly options: ChatClientOptions) {
    this.format = options.responseFormat;
  }

  get model(): string {
    return this.options.model;
  }

  /**
   * One answer for `messages`, validated. `signal` aborts the request; its reason (an `LlmError`, e.g. the
   * service's timeout) is what is thrown then.
   */
  async insights(messages: readonly ChatMessage[], signal: AbortSignal): Promise<LlmAnswer> {
    try {
      return await this.ask(messages, this.format, signal);
    } catch (err) {
      const refusedFormat = err instanceof LlmError && err.kind === 'http_error' && (err.status === 400 || err.status === 422);
      if (!refusedFormat || this.format !== 'json_schema') throw err;
      const answer = await this.ask(messages, 'json_object', signal);
      this.format = 'json_object';
      this.downgraded = true;
      return answer;
    }
  }

  private async ask(messages: readonly ChatMessage[], format: 'json_schema' | 'json_object', signal: AbortSignal): Promise<LlmAnswer> {
    const body = {
      model: this.options.model,
      messages:
        format === 'json_schema'
          ? messages
          : [
              ...messages,
              {
                role: 'system',
                content: `Answer with one JSON object matching this JSON schema:\n${JSON.stringify(LLM_JSON_SCHEMA.schema)}`,
              },
            ],
      response_format: format === 'json_schema' ? { type: 'json_schema', json_schema: LLM_JSON_SCHEMA } : { type: 'json_object' },
      stream: false,
    };
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.apiKey !== undefined) headers.authorization = `Bearer ${this.options.apiKey}`;
    let text: string;
    let status: number;
    let retryAfter: string | null;
    try {
      const res = await fetch(`${this.options.url}/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body), signal });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await readCapped(res, MAX_ANSWER_BYTES);
    } catch (err) {
      if (err instanceof LlmError) throw err;
      if (signal.aborted) throw signal.reason instanceof LlmError ? signal.reason : new LlmError('aborted', 'LLM request abandoned');
      throw new LlmError('connection', `cannot reach the LLM server (${errorCode(err)})`);
    }
    if (status === 429) {
      throw new LlmError('rate_limited', 'the LLM server answered 429 (rate limited)', parseRetryAfter(retryAfter, Date.now()), status);
    }
    if (status < 200 || status >= 300) {
      const wait = status === 503 ? parseRetryAfter(retryAfter, Date.now()) : undefined;
      throw new LlmError('http_error', `the LLM server answered ${status}`, wait, status);
    }
    return this.parse(text);
  }

  private parse(text: string): LlmAnswer {
    let envelope: unknown;
    try {
      envelope = JSON.parse(text);
    } catch {
      throw new LlmError('malformed', 'the LLM server answered something other than JSON');
    }
    const parsed = envelopeSchema.safeParse(envelope);
    if (!parsed.success) throw new LlmError('malformed', 'the LLM answer is not a chat completion');
    const message = parsed.data.choices[0]?.message;
    const content = message?.content;
    if (content === undefined || content === null) {
      throw new LlmError('malformed', message?.refusal ? 'the model refused to answer' : 'the LLM answer has no content');
    }
    let json: unknown;
    try {
      json = JSON.parse(unfence(content));
    } catch {
      throw new LlmError('malformed', "the model's answer is not valid JSON");
    }
    const answer = llmAnswerSchema.safeParse(json);
    if (!answer.success) {
      const fields = [...new Set(answer.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
      throw new LlmError('schema', `the model's answer does not match the schema (${fields})`);
    }
    return answer.data;
  }
}
