/**
 * A workspace's alert rules: `GET/PUT /v2/api/alert-rules`. A PUT replaces every rule; with `version` it is
 * accepted only over that version (a stale one is 409: someone saved since you read), so two editors never
 * overwrite each other unknowingly.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { alertRuleSchema, alertRulesSchema, MAX_RULES } from '../../alerts/rules.ts';
import { AppError } from '../../errors.ts';
import type { Services } from '../../services.ts';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, errorResponses } from '../schemas.ts';

const ruleSetSchema = z.object({
  version: z.number().int().describe('0 before the workspace saved any rules; each save adds 1'),
  rules: z.array(alertRuleSchema),
});

const DESCRIPTION = `Up to ${MAX_RULES} rules, each \`{id, kind, enabled (default true), ...params}\`: \`dead_air {seconds}\` (the customer waiting that long: done speaking, the agent neither thinking nor speaking), \`latency_p95 {ms, turns}\` (p95 of end-to-end latency over the last \`turns\` agent turns above \`ms\`), \`agent_error {count}\` (the agent reported that many errors), \`negative_streak {turns}\` (the customer's last \`turns\` turns negative), \`human_requested {}\` (a transfer was requested or the customer asks for a person), \`phrase {side: agent|customer|any, text | pattern}\` (\`text\`: those words, in that order, whatever the case; \`pattern\`: a bounded regular expression matched in linear time: literals, \`.\`, classes, \`\\\\d \\\\w \\\\s \\\\b ^ $\`, groups, \`|\`, \`* + ? {n,m}\` up to 20, no backreferences or lookarounds), \`long_call {seconds}\`. An alert fires once per condition per call and clears when the condition no longer holds.`;

export function alertRulesRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v2/api/alert-rules',
      {
        schema: {
          tags: ['alerts'],
          summary: "The workspace's alert rules and their version",
          headers: apiHeadersSchema,
          response: { 200: ruleSetSchema, ...errorResponses(401, 403, 429) },
        },
      },
      async (request) => services.stores.tenants.getAlertRules(authOf(request).workspaceId),
    );

    app.put(
      '/v2/api/alert-rules',
      {
        schema: {
          tags: ['alerts'],
          summary: "Replaces the workspace's alert rules",
          description: `${DESCRIPTION} With \`version\`, the save is accepted only over that version (409 otherwise).`,
          headers: apiHeadersSchema,
          body: z
            .object({
              rules: alertRulesSchema,
              version: z.number().int().min(0).optional().describe('the version read: 409 when someone saved since'),
            })
            .strict(),
          response: { 200: ruleSetSchema, ...errorResponses(400, 401, 403, 409, 429) },
        },
      },
      async (request) => {
        const { workspaceId } = authOf(request);
        const saved = await services.stores.tenants.putAlertRules(workspaceId, request.body.rules, request.body.version);
        if (!saved) {
          throw new AppError('conflict', 'the alert rules changed since that version: read them again and retry', { field: 'version' });
        }
        services.settings.setRules(workspaceId, saved);
        return saved;
      },
    );
  };
}
