/**
 * A workspace's alert rules: their wire shape (validated here, once, when a workspace saves them) and their
 * compiled form (phrases normalised, patterns compiled to linear-time matchers, see ./pattern.ts).
 */
import { z } from 'zod';
import { TREND_LENGTH } from '../analysis/sentiment.ts';
import { isStorableText } from '../domain/limits.ts';
import { MAX_SAMPLES } from '../domain/telemetry.ts';
import { compilePattern, MAX_PATTERN_LENGTH, PatternError, type MatchBudget, type Matcher } from './pattern.ts';

export const MAX_RULES = 50;

const base = {
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/, 'rule id may contain letters, digits and . _ -'),
  enabled: z.boolean().default(true),
};

const phraseText = z.string().trim().min(1).max(200).refine(isStorableText, 'text may not contain NUL characters or unpaired surrogates');

export const alertRuleSchema = z.discriminatedUnion('kind', [
  z.object({ ...base, kind: z.literal('dead_air'), seconds: z.number().int().min(1).max(3_600) }).strict(),
  z
    .object({
      ...base,
      kind: z.literal('latency_p95'),
      ms: z.number().int().min(1).max(600_000),
      turns: z.number().int().min(1).max(MAX_SAMPLES),
    })
    .strict(),
  z.object({ ...base, kind: z.literal('agent_error'), count: z.number().int().min(1).max(1_000) }).strict(),
  z.object({ ...base, kind: z.literal('negative_streak'), turns: z.number().int().min(1).max(TREND_LENGTH) }).strict(),
  z.object({ ...base, kind: z.literal('human_requested') }).strict(),
  z
    .object({
      ...base,
      kind: z.literal('phrase'),
      side: z.enum(['agent', 'customer', 'any']),
      text: phraseText.optional(),
      pattern: z
        .string()
        .min(1)
        .max(MAX_PATTERN_LENGTH)
        .superRefine((p, ctx) => {
          try {
            compilePattern(p);
          } catch (err) {
            if (!(err instanceof PatternError)) throw err;
            ctx.addIssue({ code: 'custom', message: `pattern: ${err.message}` });
          }
        })
        .optional(),
    })
    .strict()
    .refine((r) => (r.text === undefined) !== (r.pattern === undefined), {
      message: 'a phrase rule has text or pattern (one of them)',
      path: ['text'],
    }),
  z.object({ ...base, kind: z.literal('long_call'), seconds: z.number().int().min(1).max(86_400) }).strict(),
]);

export type AlertRule = z.infer<typeof alertRuleSchema>;
export type AlertKind = AlertRule['kind'];

export const alertRulesSchema = z
  .array(alertRuleSchema)
  .max(MAX_RULES)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `duplicate rule id "${r.id}"`, path: [i, 'id'] });
      seen.add(r.id);
    });
  });

export interface AlertRuleSet {
  /** 0 before the workspace ever saved rules. */
  version: number;
  rules: AlertRule[];
}

/** Words of a text, lower case, single-spaced: what phrase rules compare. */
export function normalize(text: string): string {
  return ` ${text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .split(/[^\p{L}\p{N}']+/u)
    .filter(Boolean)
    .join(' ')} `;
}

/** A turn's text prepared once for every phrase rule that reads it. */
export interface PreparedText {
  lower: string;
  /** `normalize(text)`, computed on first use. */
  words(): string;
}

export function prepareText(text: string): PreparedText {
  const lower = text.toLowerCase();
  let words: string | undefined;
  return { lower, words: () => (words ??= normalize(text)) };
}

export type CompiledRule = AlertRule & {
  /** phrase rules: does this turn's text match (whole words of `text`, or the pattern)? */
  matches?: (text: PreparedText) => boolean;
};

export interface CompiledRules {
  version: number;
  /** Enabled rules only. */
  rules: CompiledRule[];
  /** Some enabled rule depends on time passing (dead air, long call): the periodic evaluator looks at the workspace. */
  timeBased: boolean;
}

/**
 * Pattern matching steps a workspace may spend: `PATTERN_STEPS_PER_SECOND`, saved up to `PATTERN_STEPS_BURST`
 * (a few tens of milliseconds of a core). An ordinary phrase pattern over ordinary turns spends a few
 * thousand a turn; a workspace whose patterns would spend more matches nothing more until its budget refills
 * (its own alerts wait; nobody else's calls do). Kept per workspace by `workspaceBudget`, not per compiled
 * rule set, so saving the rules again does not refill it.
 */
export const PATTERN_STEPS_PER_SECOND = 1_000_000;
export const PATTERN_STEPS_BURST = 1_000_000;

const budgets = new Map<string, { budget: MatchBudget; at: number }>();

/** Pattern matches given up for want of budget, in this process (`livecalls_alert_pattern_budget_skips_total`). */
export const patternBudgetSkips = { count: 0 };

/** The workspace's pattern budget, refilled for the time since it was last used. */
export function workspaceBudget(workspaceId: string, now = performance.now()): MatchBudget {
  let entry = budgets.get(workspaceId);
  if (!entry) {
    entry = { budget: { left: PATTERN_STEPS_BURST }, at: now };
    budgets.set(workspaceId, entry);
    // Bounded: a workspace unseen for long starts full again, which is what its entry would say anyway.
    if (budgets.size > 10_000) budgets.delete(budgets.keys().next().value as string);
  }
  entry.budget.left = Math.min(PATTERN_STEPS_BURST, entry.budget.left + ((now - entry.at) / 1000) * PATTERN_STEPS_PER_SECOND);
  entry.at = now;
  return entry.budget;
}

/** `workspaceId`: whose pattern budget the rules spend (see `workspaceBudget`). */
export function compileRules(set: AlertRuleSet, workspaceId = ''): CompiledRules {
  const rules = set.rules
    .filter((r) => r.enabled)
    .map((r): CompiledRule => {
      if (r.kind !== 'phrase') return r;
      if (r.pattern !== undefined) {
        const matcher: Matcher = compilePattern(r.pattern);
        return {
          ...r,
          matches: (text) => {
            const budget = workspaceBudget(workspaceId);
            const matched = budget.left > 0 && matcher.testLower(text.lower, budget);
            if (budget.left <= 0) patternBudgetSkips.count += 1;
            return matched;
          },
        };
      }
      const needle = normalize(r.text ?? '');
      // Cheap first: the words cannot be there unless their letters are (the lower-cased text holds them in order).
      const first = needle.trim().split(' ')[0] ?? '';
      return { ...r, matches: (text) => text.lower.includes(first) && text.words().includes(needle) };
    });
  return { version: set.version, rules, timeBased: rules.some((r) => r.kind === 'dead_air' || r.kind === 'long_call') };
}

export const NO_RULES: CompiledRules = { version: 0, rules: [], timeBased: false };
