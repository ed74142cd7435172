/**
 * The periodic alert evaluator: conditions that become true with time passing and no event (dead air, a call
 * longer than T) are seen here, every `everyMs`, and recorded as `alert_fired` events through the normal
 * ingest, so the alert is durable, in the call, and on every instance's stream and webhooks alike.
 *
 * Why it is safe with several instances: a lease lets one instance evaluate at a time (held for three periods,
 * so a crashed holder is replaced quickly), and even when two overlap (a lease handed over mid-pass, clocks
 * apart) each alert event's id is derived from the call, the rule and the episode: the store applies it once,
 * and the fold ignores an episode that is not the next one.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { alertEventId } from '../domain/alerts.ts';
import type { CallEvent } from '../domain/events.ts';
import type { CallService, Clock } from '../calls/service.ts';
import type { WorkspaceSettings } from '../calls/settings.ts';
import type { Stores } from '../store/types.ts';
import { dueAlerts } from './evaluate.ts';
import { periodic } from '../calls/periodic.ts';

export const ALERTS_LEASE = 'alerts';
/** The workspace list is read again after this long (workspaces are created rarely). */
const WORKSPACES_TTL_MS = 30_000;

export interface AlertEvaluator {
  /** One pass; how many alerts it fired (0 when another instance holds the lease). */
  evaluate(): Promise<number>;
  start(): void;
  /** Stops the timer; resolves once a pass in progress has finished. */
  stop(): Promise<void>;
}

export function createAlertEvaluator(deps: {
  stores: Stores;
  service: CallService;
  settings: WorkspaceSettings;
  clock: Clock;
  everyMs: number;
  log: Logger;
  holder?: string;
}): AlertEvaluator {
  const { stores, service, settings, clock, everyMs, log } = deps;
  const holder = deps.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  let workspaces: { ids: string[]; at: number } | undefined;

  async function workspaceIds(now: number): Promise<string[]> {
    if (!workspaces || now - workspaces.at >= WORKSPACES_TTL_MS) {
      workspaces = { ids: (await stores.tenants.listWorkspaces()).map((w) => w.id), at: now };
    }
    return workspaces.ids;
  }

  async function evaluate(): Promise<number> {
    if (!(await stores.tryLease(ALERTS_LEASE, holder, everyMs * 3, clock()))) return 0;
    let fired = 0;
    for (const workspaceId of await workspaceIds(clock())) {
      const { rules } = await settings.get(workspaceId);
      if (!rules.timeBased) continue;
      for (const call of await stores.calls.listActive(workspaceId)) {
        const now = clock();
        const due = dueAlerts(call, rules, now);
        if (due.length === 0) continue;
        const events: CallEvent[] = due.map((d) => ({
          type: 'alert_fired',
          id: alertEventId(call.id, d.ruleId, d.episode),
          at: now,
          callId: call.id,
          ...d,
        }));
        const result = await service.ingest(workspaceId, call.roomName, events, 'api');
        fired += result.applied;
      }
    }
    return fired;
  }

  return {
    evaluate,
    ...periodic(evaluate, everyMs, (err) => log.error({ err }, 'alert evaluation failed; will retry')),
  };
}
