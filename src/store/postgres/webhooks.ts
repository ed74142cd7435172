/**
 * Webhook endpoints and the outbox in PostgreSQL, shared by every instance. Why a claim is both
 * `FOR UPDATE SKIP LOCKED` and a lease: the row lock keeps two claims running at the same moment apart
 * (each skips what the other is taking), the lease (`locked_until`) keeps a delivery with its holder while
 * it is being sent, after the claim's transaction committed. A holder that died loses it when the lease
 * runs out; recording an attempt checks the holder, so a late holder cannot overwrite the one that retook it.
 *
 * Why the lease is on the database's clock: instances' clocks differ, and a lease judged by each claimer's
 * own clock is broken by any instance whose clock runs ahead by more than the lease, which would then send an
 * attempt its holder is still sending. `locked_until` is therefore set and compared with `now()` of the claim's
 * statement, one clock for every instance. The due time (`next_attempt_at`) stays on the caller's clock: the
 * service schedules retries on its own clock (a test's clock included), and an instance running a little
 * ahead merely sends a retry a little early. Recording an attempt needs no clock at all: it checks the holder's
 * name and the attempt number, which a retake replaces, so a holder whose lease ran out unnoticed may still
 * record its attempt (no one sent it again) and one that was overtaken cannot.
 */
import type pg from 'pg';
import { NO_WORKSPACE_CAP } from '../types.ts';
import type { AttemptOutcome, ClaimedDelivery, DeliveryAttempt, WebhookDelivery, WebhookEndpoint, WebhookStore } from '../types.ts';

/** The database's time in epoch ms, like every time column here. */
const DB_NOW_MS = '(extract(epoch FROM now()) * 1000)::bigint';

const ENDPOINT_COLUMNS = `id, workspace_id AS "workspaceId", url, events, description, secret, created_at AS "createdAt"`;

export function createPostgresWebhooks(pool: pg.Pool): WebhookStore {
  const q = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => pool.query<R>(text, values);

  return {
    async createEndpoint(e) {
      await q(
        `INSERT INTO webhook_endpoints (id, workspace_id, url, events, description, secret, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [e.id, e.workspaceId, e.url, e.events, e.description, e.secret, e.createdAt],
      );
    },
    async listEndpoints(workspaceId) {
      return (
        await q<WebhookEndpoint>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 ORDER BY created_at, id`, [
          workspaceId,
        ])
      ).rows;
    },
    async getEndpoint(workspaceId, id) {
      return (
        await q<WebhookEndpoint>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2`, [workspaceId, id])
      ).rows[0];
    },
    async deleteEndpoint(workspaceId, id) {
      return ((await q('DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2', [workspaceId, id])).rowCount ?? 0) > 0;
    },
    async enqueue(m, now) {
      // One statement: the fan-out happens only when this call inserted the message.
      const res = await q<{ n: string }>(
        `WITH msg AS (
           INSERT INTO webhook_messages (id, workspace_id, type, payload, created_at) VALUES ($1, $2, $3, $4, $5::bigint)
           ON CONFLICT (id) DO NOTHING RETURNING id, workspace_id, type
         ), fan AS (
           INSERT INTO webhook_deliveries (endpoint_id, message_id, workspace_id, status, attempts, next_attempt_at, created_at, updated_at)
           SELECT e.id, msg.id, e.workspace_id, 'pending', 0, $5::bigint, $5::bigint, $5::bigint FROM msg
           JOIN webhook_endpoints e ON e.workspace_id = msg.workspace_id AND msg.type = ANY (e.events)
           ORDER BY e.created_at, e.id
           RETURNING 1
         )
         SELECT count(*) AS n FROM fan`,
        [m.id, m.workspaceId, m.type, m.payload, now],
      );
      return Number(res.rows[0]?.n ?? 0);
    },
    async claim(holder, now, leaseMs, limit, perWorkspace = NO_WORKSPACE_CAP) {
      if (limit <= 0) return [];
      // Without a cap: the oldest due, locked as they are found (SKIP LOCKED: concurrent claims split them).
      // With one: what each workspace holds now (held rows are few, and indexed), then each workspace's own oldest
      // due rows up to its room, read from its own index and locked as found (SKIP LOCKED again), so a workspace
      // at its cap costs nothing however long its backlog, and concurrent claims still split the rows.
      const pick =
        perWorkspace >= NO_WORKSPACE_CAP
          ? `SELECT seq FROM webhook_deliveries
             WHERE status = 'pending' AND next_attempt_at <= $2 AND locked_until <= ${DB_NOW_MS}
             ORDER BY next_attempt_at, seq LIMIT $4
             FOR UPDATE SKIP LOCKED`
          : `WITH held AS (
               SELECT workspace_id, count(*) AS n FROM webhook_deliveries
               WHERE status = 'pending' AND locked_until > 0 AND locked_until > ${DB_NOW_MS} GROUP BY workspace_id
             ), room AS (
               SELECT w.workspace_id, LEAST($5::int - COALESCE(h.n, 0), $4::int) AS n
               FROM (SELECT DISTINCT workspace_id FROM webhook_endpoints) w LEFT JOIN held h ON h.workspace_id = w.workspace_id
             ), candidates AS (
               -- A constant LIMIT inside (an expression there makes the planner sort the whole backlog), each
               -- workspace's room applied outside.
               SELECT c.seq, c.next_attempt_at, room.n,
                 row_number() OVER (PARTITION BY room.workspace_id ORDER BY c.next_attempt_at, c.seq) AS k
               FROM room CROSS JOIN LATERAL (
                 SELECT d.seq, d.next_attempt_at FROM webhook_deliveries d
                 WHERE d.workspace_id = room.workspace_id AND d.status = 'pending' AND d.next_attempt_at <= $2
                   AND d.locked_until <= ${DB_NOW_MS}
                 ORDER BY d.next_attempt_at, d.seq LIMIT $4
                 FOR UPDATE OF d SKIP LOCKED
               ) c
               WHERE room.n > 0
             )
             SELECT seq FROM candidates WHERE k <= n ORDER BY next_attempt_at, seq LIMIT $4`;
      const res = await q<ClaimedDelivery>(
        `WITH due AS (${pick}), claimed AS (
           UPDATE webhook_deliveries d SET locked_by = $1, locked_until = ${DB_NOW_MS} + $3::bigint FROM due WHERE d.seq = due.seq
           RETURNING d.seq, d.endpoint_id, d.message_id, d.attempts, d.next_attempt_at
         )
         SELECT c.endpoint_id AS "endpointId", m.workspace_id AS "workspaceId", c.message_id AS "eventId", m.type AS "eventType",
           e.url, e.secret, m.payload, c.attempts
         FROM claimed c JOIN webhook_endpoints e ON e.id = c.endpoint_id JOIN webhook_messages m ON m.id = c.message_id
         WHERE e.workspace_id = m.workspace_id
         ORDER BY c.next_attempt_at, c.seq`,
        perWorkspace >= NO_WORKSPACE_CAP ? [holder, now, leaseMs, limit] : [holder, now, leaseMs, limit, perWorkspace],
      );
      return res.rows;
    },
    async recordAttempt(holder, endpointId, eventId, o: AttemptOutcome) {
      const res = await q(
        `WITH settled AS (
           UPDATE webhook_deliveries SET status = $4::text, attempts = $5::int, next_attempt_at = $6::bigint, locked_by = NULL, locked_until = 0,
             last_response_status = $7::int, last_error = $8::text, updated_at = $9::bigint,
             delivered_at = CASE WHEN $4 = 'delivered' THEN $9 ELSE delivered_at END
           WHERE endpoint_id = $2 AND message_id = $3 AND locked_by = $1 AND attempts = $5 - 1 AND status = 'pending'
           RETURNING endpoint_id, message_id
         )
         INSERT INTO webhook_attempts (endpoint_id, message_id, attempt, at, response_status, error, duration_ms)
         SELECT endpoint_id, message_id, $5::int, $9::bigint, $7::int, $8::text, $10::int FROM settled`,
        [holder, endpointId, eventId, o.status, o.attempt, o.nextAttemptAt, o.responseStatus, o.error, o.at, Math.round(o.durationMs)],
      );
      return (res.rowCount ?? 0) > 0;
    },
    async listDeliveries(workspaceId, endpointId, limit) {
      const rows = (
        await q<Omit<WebhookDelivery, 'history'>>(
          `SELECT d.endpoint_id AS "endpointId", m.workspace_id AS "workspaceId", d.message_id AS "eventId", m.type AS "eventType",
             d.status, d.attempts, d.next_attempt_at AS "nextAttemptAt", d.last_response_status AS "lastResponseStatus",
             d.last_error AS "lastError", d.created_at AS "createdAt", d.updated_at AS "updatedAt", d.delivered_at AS "deliveredAt"
           FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN webhook_messages m ON m.id = d.message_id
           WHERE e.workspace_id = $1 AND d.endpoint_id = $2
           ORDER BY d.created_at DESC, d.seq DESC LIMIT $3`,
          [workspaceId, endpointId, limit],
        )
      ).rows;
      if (rows.length === 0) return [];
      const attempts = await q<DeliveryAttempt & { eventId: string }>(
        `SELECT message_id AS "eventId", attempt, at, response_status AS "responseStatus", error, duration_ms AS "durationMs"
         FROM webhook_attempts WHERE endpoint_id = $1 AND message_id = ANY ($2) ORDER BY message_id, attempt`,
        [endpointId, rows.map((r) => r.eventId)],
      );
      const history = new Map<string, DeliveryAttempt[]>();
      for (const { eventId, ...a } of attempts.rows) {
        const list = history.get(eventId) ?? [];
        list.push(a);
        history.set(eventId, list);
      }
      return rows.map((r) => ({ ...r, history: history.get(r.eventId) ?? [] }));
    },
    async prune(before) {
      const gone = await q("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < $1", [before]);
      // Old messages are never fanned out again, so one left without deliveries can go.
      await q(
        `DELETE FROM webhook_messages m WHERE m.created_at < $1
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.message_id = m.id)`,
        [before],
      );
      return gone.rowCount ?? 0;
    },
  };
}
