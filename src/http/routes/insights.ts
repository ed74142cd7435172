/**
 * GET /v2/api/active-calls/{roomName}/insights: sentiment, topics, summary, suggestions.
 *
 * Computed offline by default. With an LLM configured, the LLM's result is served when there is one for the
 * call's transcript now or at most LIVECALLS_LLM_MAX_LAG_TURNS turns behind (`source: "llm"`, `turnsBehind`);
 * otherwise the offline one (`source: "offline"`). This route only reads: it never waits for the model.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Insights } from '../../analysis/index.ts';
import type { LlmView } from '../../analysis/llm/service.ts';
import { iso, type SentimentDetail } from '../../domain/view.ts';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, errorResponses, insightsResponseSchema, roomParamsSchema } from '../schemas.ts';
import type { Services } from '../../services.ts';

/** LLM insights over the offline ones: the call's own sentiment (and its score, trend, signals) stays. */
export function withLlm(offline: Insights & SentimentDetail, llm: LlmView) {
  const { answer } = llm;
  return {
    ...offline,
    summary: answer.summary,
    topics: answer.topics.map((t) => t.topic),
    topicDetails: answer.topics.map((t) => ({ topic: t.topic, intent: 'llm', confidence: Math.round(t.confidence * 100) / 100 })),
    suggestions: answer.suggestions,
    state: answer.state,
    source: 'llm' as const,
    model: llm.model,
    turnsBehind: llm.turnsBehind,
    generatedAt: iso(llm.generatedAt),
    modelSentiment: answer.sentiment,
  };
}

export function insightsRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v2/api/active-calls/:roomName/insights',
      {
        schema: {
          tags: ['active calls'],
          summary: 'Live insights of an active call (offline models, or the configured LLM: see `source`)',
          headers: apiHeadersSchema,
          params: roomParamsSchema,
          response: { 200: insightsResponseSchema, ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        const { workspaceId } = authOf(request);
        const call = await services.calls.activeCall(workspaceId, request.params.roomName);
        const offline = services.calls.offlineInsights(call);
        const llm = services.llm?.forCall(workspaceId, call);
        if (llm) return withLlm(offline, llm);
        return { ...offline, source: 'offline' as const, model: null, turnsBehind: 0, generatedAt: null, modelSentiment: null };
      },
    );
  };
}
