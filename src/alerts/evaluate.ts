/**
 * Evaluating a workspace's alert rules against a call. Pure: the call, the rules and the time come in.
 *
 * Why these rules clear as they do: an alert fires once per condition episode and clears when its condition
 * stops holding. Conditions that cannot stop holding (a call already longer than T, N errors already seen, a
 * phrase already said, a human already asked for) never clear: they fire once per call. Dead air clears when
 * the waiting ends (the customer speaks, the agent thinks or speaks), never because another instance's clock
 * says a few ms less had passed: so two instances whose clocks differ cannot make it flap.
 *
 * Cost: a rule whose alert is open and cannot clear is skipped; phrase and human-request rules read only the
 * turns the batch added; everything else reads a handful of fields.
 */
import { asksForHuman } from '../analysis/call-state.ts';
import { NEGATIVE_THRESHOLD } from '../analysis/sentiment.ts';
import { clear, emptyAlerts, fire, nextEpisode, openAlert } from '../domain/alerts.ts';
import { isActive, startedAt, type Call, type Turn } from '../domain/call.ts';
import { quantile, type Telemetry } from '../domain/telemetry.ts';
import { prepareText, type CompiledRule, type CompiledRules, type PreparedText } from './rules.ts';

/** A turn this batch added, its text prepared once for every rule. */
interface FreshTurn extends Turn {
  text: PreparedText;
}

/** Kinds whose condition, once true, stays true for the rest of the call. */
const STICKY = new Set<CompiledRule['kind']>(['long_call', 'agent_error', 'phrase', 'human_requested']);

/** The customer is waiting: done speaking, while the agent neither thinks nor speaks. Since when (epoch ms). */
export function waitingSince(t: Telemetry | undefined): number | null {
  if (!t || t.closed || t.customerState?.value !== 'listening') return null;
  const agent = t.agentState;
  if (!agent || (agent.value !== 'listening' && agent.value !== 'idle')) return null;
  return Math.max(t.customerState.at, agent.at);
}

function excerpt(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The rule's alert message when its condition holds now, else null. `fresh`: turns this batch added. */
function holds(rule: CompiledRule, call: Call, now: number, fresh: readonly FreshTurn[]): string | null {
  const t = call.telemetry;
  switch (rule.kind) {
    case 'dead_air': {
      const since = waitingSince(t);
      return since !== null && now - since >= rule.seconds * 1000 ? `Customer waiting for more than ${rule.seconds} s` : null;
    }
    case 'long_call':
      return now - startedAt(call) >= rule.seconds * 1000 ? `Call longer than ${rule.seconds} s` : null;
    case 'latency_p95': {
      const samples = t?.samples.e2e ?? [];
      if (samples.length < rule.turns) return null;
      const p95 = quantile(
        samples.slice(-rule.turns).map((s) => s.value),
        0.95,
      );
      return p95 !== null && p95 > rule.ms
        ? `Latency p95 ${Math.round(p95)} ms over the last ${rule.turns} turns (above ${rule.ms} ms)`
        : null;
    }
    case 'agent_error': {
      if (!t || t.errorCount < rule.count) return null;
      const last = t.recentErrors.at(-1);
      return `${t.errorCount} agent error${t.errorCount === 1 ? '' : 's'}${last ? ` (latest: ${last.source}: ${excerpt(last.message, 80)})` : ''}`;
    }
    case 'negative_streak': {
      const trend = call.sentimentTrend ?? [];
      if (trend.length < rule.turns || !trend.slice(-rule.turns).every((s) => s <= NEGATIVE_THRESHOLD)) return null;
      return `Customer negative for ${rule.turns} turn${rule.turns === 1 ? '' : 's'} in a row`;
    }
    case 'human_requested': {
      const asked = fresh.find((turn) => turn.role === 'customer' && asksForHuman(turn.content));
      if (asked) return `Customer asked for a human: "${excerpt(asked.content)}"`;
      // Only a hand-off asked for: frustration alone ("this is ridiculous", the sentiment's escalation signal)
      // is not a request for a person, and a wallboard pin saying so would be believed (negative_streak is for that).
      return call.transfer ? `Transfer requested${call.transfer.value ? `: ${excerpt(call.transfer.value)}` : ''}` : null;
    }
    case 'phrase': {
      const said = fresh.find((turn) => (rule.side === 'any' || turn.role === rule.side) && rule.matches?.(turn.text));
      return said ? `${said.role === 'agent' ? 'Agent' : 'Customer'} said: "${excerpt(said.content)}"` : null;
    }
  }
}

function clears(rule: CompiledRule, call: Call, now: number): boolean {
  if (STICKY.has(rule.kind)) return false;
  if (rule.kind === 'dead_air') return waitingSince(call.telemetry) === null;
  return holds(rule, call, now, []) === null;
}

function freshTurns(before: Call | undefined, after: Call): FreshTurn[] {
  if (before && before.turnCount === after.turnCount) return [];
  const known = new Set(before?.transcript.map((turn) => turn.id));
  return after.transcript.filter((turn) => !known.has(turn.id)).map((turn) => ({ ...turn, text: prepareText(turn.content) }));
}

/**
 * The call with its alerts brought up to date after a batch (`before`: the call before it). Rules no longer
 * enabled clear their open alerts. An ended call fires nothing new.
 */
export function evaluateAlerts(before: Call | undefined, after: Call, set: CompiledRules, now: number): Call {
  if (!isActive(after) || (set.rules.length === 0 && !after.alerts?.list.some((a) => a.clearedAt === null))) return after;
  let alerts = after.alerts ?? emptyAlerts();
  const start = alerts;
  let fresh: FreshTurn[] | undefined;
  for (const rule of set.rules) {
    const open = openAlert(alerts, rule.id);
    if (open) {
      if (clears(rule, after, now)) alerts = clear(alerts, rule.id, now);
      continue;
    }
    const message = holds(rule, after, now, (fresh ??= freshTurns(before, after)));
    if (message !== null)
      alerts = fire(after.id, alerts, { ruleId: rule.id, kind: rule.kind, message, episode: nextEpisode(alerts, rule.id) }, now);
  }
  for (const a of alerts.list) if (a.clearedAt === null && !set.rules.some((r) => r.id === a.ruleId)) alerts = clear(alerts, a.ruleId, now);
  return alerts === start ? after : { ...after, alerts };
}

/**
 * What the periodic evaluator should fire on an active call now: time-based conditions (dead air, long call)
 * that hold with no open alert. Each becomes an `alert_fired` event with an id derived from its episode.
 */
export function dueAlerts(
  call: Call,
  set: CompiledRules,
  now: number,
): { ruleId: string; kind: string; message: string; episode: number }[] {
  if (!isActive(call) || !set.timeBased) return [];
  const due = [];
  for (const rule of set.rules) {
    if ((rule.kind !== 'dead_air' && rule.kind !== 'long_call') || openAlert(call.alerts, rule.id)) continue;
    const message = holds(rule, call, now, []);
    if (message !== null) due.push({ ruleId: rule.id, kind: rule.kind, message, episode: nextEpisode(call.alerts, rule.id) });
  }
  return due;
}
