/**
 * A real `AgentSession` of @livekit/agents with no LiveKit server and no audio: text turns through
 * `session.run({ userInput })`, replies from the package's own `FakeLLM` (voice.testing). FakeLLM reports no
 * token counts, so `MeteredLLM` passes its replies through a real `LLMStream` that ends with a usage chunk,
 * as a provider plugin does; the session then counts them in `session_usage_updated`.
 */
import { llm, voice } from '@livekit/agents';
import { z } from 'zod';

export const USAGE_PER_REPLY = { promptTokens: 40, completionTokens: 9, promptCachedTokens: 16, totalTokens: 49 } as const;

class MeteredStream extends llm.LLMStream {
  constructor(
    owner: llm.LLM,
    private readonly inner: llm.LLMStream,
    params: ConstructorParameters<typeof llm.LLMStream>[1],
  ) {
    super(owner, params);
  }

  protected async run(): Promise<void> {
    for await (const chunk of this.inner) this.queue.put(chunk);
    this.queue.put({ id: 'usage', usage: { ...USAGE_PER_REPLY } });
  }
}

export class MeteredLLM extends voice.testing.FakeLLM {
  override chat(params: Parameters<voice.testing.FakeLLM['chat']>[0]): llm.LLMStream {
    const inner = super.chat(params);
    return new MeteredStream(this, inner, { chatCtx: params.chatCtx, toolCtx: params.toolCtx, connOptions: inner.connOptions });
  }

  override label(): string {
    return 'metered-fake-llm';
  }
}

export const REPLIES: voice.testing.FakeLLMResponse[] = [
  { input: 'Hello, I need to move my appointment', content: 'Of course. Which day suits you?', ttft: 120, duration: 160 },
  { input: 'Monday please', toolCalls: [{ name: 'book', args: { day: 'monday' } }], ttft: 20 },
  { input: 'Monday is fully booked', content: 'Monday is full, sorry. Would Tuesday work?', ttft: 80 },
];

export class FrontDesk extends voice.Agent {
  constructor() {
    super({
      instructions: 'You book appointments.',
      tools: {
        book: llm.tool({
          description: 'Book a day',
          parameters: z.object({ day: z.string() }),
          execute: async ({ day }) => {
            await new Promise((r) => setTimeout(r, 25));
            if (day === 'monday') throw new llm.ToolError('Monday is fully booked');
            return `booked ${day}`;
          },
        }),
      },
    });
  }
}

export async function startSession(): Promise<{ session: voice.AgentSession; model: MeteredLLM }> {
  const model = new MeteredLLM(REPLIES);
  const session = new voice.AgentSession({ llm: model });
  await session.start({ agent: new FrontDesk() });
  return { session, model };
}
