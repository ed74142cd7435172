/**
 * Webhook endpoints and the outbox in SQLite. Why claims are leases here too: the `livecalls` CLI and a
 * second server process may open the same file, and a process killed mid-send must not strand a delivery.
 * A claim and a recorded attempt are each one immediate transaction, so no two holders ever get the same row.
 * As on PostgreSQL, the lease is measured on the store's clock (this host's, which every process sharing the
 * file shares), not on the caller's `now`, which schedules due times only.
 */
import type Database from 'better-sqlite3';
import { NO_WORKSPACE_CAP } from '../types.ts';
import type {
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryAttempt,
  DeliveryStatus,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEventType,
  WebhookMessage,
  WebhookStore,
} from '../types.ts';

interface EndpointRow {
  id: string;
  workspace_id: string;
  url: string;
  events: string;
  description: string | null;
  secret: string;
  created_at: number;
}

interface DeliveryRow {
  seq: number;
  endpoint_id: string;
  message_id: string;
  workspace_id: string;
  type: WebhookEventType;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number | null;
  last_response_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

interface ClaimRow {
  endpoint_id: string;
  message_id: string;
  workspace_id: string;
  type: WebhookEventType;
  url: string;
  secret: string;
  payload: string;
  attempts: number;
}

interface AttemptRow {
  endpoint_id: string;
  message_id: string;
  attempt: number;
  at: number;
  response_status: number | null;
  error: string | null;
  duration_ms: number;
}

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEventType[],
    description: row.description,
    secret: row.secret,
    createdAt: row.created_at,
  };
}

function toAttempt(row: Omit<AttemptRow, 'endpoint_id' | 'message_id'>): DeliveryAttempt {
  return { attempt: row.attempt, at: row.at, responseStatus: row.response_status, error: row.error, durationMs: row.duration_ms };
}

function toDelivery(row: Omit<DeliveryRow, 'seq'>, history: DeliveryAttempt[]): WebhookDelivery {
  return {
    endpointId: row.endpoint_id,
    workspaceId: row.workspace_id,
    eventId: row.message_id,
    eventType: row.type,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastResponseStatus: row.last_response_status,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
    history,
  };
}

/**
 * The outbox's writes, synchronous so they can join another transaction: the call store's, which writes a
 * batch's messages in the batch's own commit (see `CallFolder.outbox`). Outside a transaction each is its own.
 */
export interface OutboxWriter {
  /** Whether an endpoint of the workspace is subscribed to the type. */
  wants(workspaceId: string, type: WebhookEventType): boolean;
  /** The message and one pending delivery per subscribed endpoint; 0 when its id was enqueued already. */
  write(message: WebhookMessage, now: number): number;
}

export function outboxWriter(db: Database.Database): OutboxWriter {
  const insertMessage = db.prepare(
    `INSERT INTO webhook_messages (id, workspace_id, type, payload, created_at) VALUES (@id, @workspaceId, @type, @payload, @now)
     ON CONFLICT (id) DO NOTHING`,
  );
  const fanOut = db.prepare(
    `INSERT INTO webhook_deliveries (endpoint_id, message_id, workspace_id, status, attempts, next_attempt_at, created_at, updated_at)
     SELECT e.id, @id, e.workspace_id, 'pending', 0, @now, @now, @now FROM webhook_endpoints e
     WHERE e.workspace_id = @workspaceId AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE json_each.value = @type)
     ORDER BY e.created_at, e.id`,
  );
  const selectSubscribed = db.prepare<[string, string], { one: number }>(
    `SELECT 1 AS one FROM webhook_endpoints e
     WHERE e.workspace_id = ? AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE json_each.value = ?) LIMIT 1`,
  );
  const write = db.transaction((message: WebhookMessage, now: number) => {
    const row = { id: message.id, workspaceId: message.workspaceId, type: message.type, payload: message.payload, now };
    return insertMessage.run(row).changes === 0 ? 0 : fanOut.run(row).changes;
  });
  return {
    wants: (workspaceId, type) => selectSubscribed.get(workspaceId, type) !== undefined,
    write: (message, now) => write(message, now),
  };
}

export function createEmbeddedWebhooks(db: Database.Database): WebhookStore {
  const insertEndpoint = db.prepare(
    `INSERT INTO webhook_endpoints (id, workspace_id, url, events, description, secret, created_at)
     VALUES (@id, @workspaceId, @url, @events, @description, @secret, @createdAt)`,
  );
  const selectEndpoints = db.prepare<[string], EndpointRow>(
    'SELECT * FROM webhook_endpoints WHERE workspace_id = ? ORDER BY created_at, id',
  );
  const selectEndpoint = db.prepare<[string, string], EndpointRow>('SELECT * FROM webhook_endpoints WHERE workspace_id = ? AND id = ?');
  const deleteEndpoint = db.prepare('DELETE FROM webhook_endpoints WHERE workspace_id = ? AND id = ?');
  const writer = outboxWriter(db);
  // Due, unheld deliveries, oldest due first.
  const lockDue = db.prepare<{ holder: string; now: number; clock: number; until: number; limit: number }, { seq: number }>(
    `UPDATE webhook_deliveries SET locked_by = @holder, locked_until = @until
     WHERE seq IN (SELECT seq FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @now AND locked_until <= @clock
                   ORDER BY next_attempt_at, seq LIMIT @limit)
     RETURNING seq`,
  );
  // With a cap per workspace (see WebhookStore.claim): what each workspace holds now (held rows are few, and
  // indexed), then each workspace's own oldest due rows up to its room, read from its own index, so a workspace
  // at its cap costs nothing however long its backlog.
  const heldPerWorkspace = db.prepare<[number], { workspace_id: string; n: number }>(
    // INDEXED BY: grouping by workspace would otherwise walk every pending row in workspace order.
    `SELECT workspace_id, COUNT(*) AS n FROM webhook_deliveries INDEXED BY webhook_deliveries_held
     WHERE status = 'pending' AND locked_until > 0 AND locked_until > ? GROUP BY workspace_id`,
  );
  const workspacesWithEndpoints = db.prepare<[], { workspace_id: string }>('SELECT DISTINCT workspace_id FROM webhook_endpoints');
  const dueOf = db.prepare<[string, number, number, number], { seq: number; next_attempt_at: number }>(
    `SELECT seq, next_attempt_at FROM webhook_deliveries
     WHERE workspace_id = ? AND status = 'pending' AND next_attempt_at <= ? AND locked_until <= ?
     ORDER BY next_attempt_at, seq LIMIT ?`,
  );
  const lockSeqs = db.prepare<[string, number, string], { seq: number }>(
    'UPDATE webhook_deliveries SET locked_by = ?, locked_until = ? WHERE seq IN (SELECT value FROM json_each(?)) RETURNING seq',
  );
  const selectClaimed = db.prepare<[string], ClaimRow>(
    `SELECT d.endpoint_id, d.message_id, m.workspace_id, m.type, e.url, e.secret, m.payload, d.attempts
     FROM json_each(?) j JOIN webhook_deliveries d ON d.seq = j.value
     JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN webhook_messages m ON m.id = d.message_id
     WHERE e.workspace_id = m.workspace_id
     ORDER BY d.next_attempt_at, d.seq`,
  );
  const settle = db.prepare(
    `UPDATE webhook_deliveries SET status = @status, attempts = @attempt, next_attempt_at = @nextAttemptAt, locked_by = NULL,
       locked_until = 0, last_response_status = @responseStatus, last_error = @error, updated_at = @at,
       delivered_at = CASE WHEN @status = 'delivered' THEN @at ELSE delivered_at END
     WHERE endpoint_id = @endpointId AND message_id = @eventId AND locked_by = @holder AND attempts = @attempt - 1 AND status = 'pending'`,
  );
  const insertAttempt = db.prepare(
    `INSERT INTO webhook_attempts (endpoint_id, message_id, attempt, at, response_status, error, duration_ms)
     VALUES (@endpointId, @eventId, @attempt, @at, @responseStatus, @error, @durationMs)`,
  );
  const selectDeliveries = db.prepare<[string, string, number], DeliveryRow>(
    `SELECT d.seq, d.endpoint_id, d.message_id, m.workspace_id, m.type, d.status, d.attempts, d.next_attempt_at,
       d.last_response_status, d.last_error, d.created_at, d.updated_at, d.delivered_at
     FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN webhook_messages m ON m.id = d.message_id
     WHERE e.workspace_id = ? AND d.endpoint_id = ?
     ORDER BY d.created_at DESC, d.seq DESC LIMIT ?`,
  );
  const selectAttempts = db.prepare<[string, string], AttemptRow>(
    `SELECT a.* FROM webhook_attempts a JOIN json_each(?) j ON a.message_id = j.value
     WHERE a.endpoint_id = ? ORDER BY a.message_id, a.attempt`,
  );
  const pruneDeliveries = db.prepare("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < ?");
  const pruneMessages = db.prepare(
    'DELETE FROM webhook_messages WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.message_id = webhook_messages.id)',
  );

  const enqueue = db.transaction((message: WebhookMessage, now: number) => writer.write(message, now));
  const claim = db.transaction((holder: string, now: number, leaseMs: number, limit: number, per: number) => {
    // Read inside the transaction: after waiting for the write lock, not before.
    const clock = Date.now();
    const until = clock + leaseMs;
    let seqs: number[];
    if (per >= NO_WORKSPACE_CAP) seqs = lockDue.all({ holder, now, clock, until, limit }).map((r) => r.seq);
    else {
      const held = new Map(heldPerWorkspace.all(clock).map((r) => [r.workspace_id, r.n]));
      const due: { seq: number; next_attempt_at: number }[] = [];
      for (const { workspace_id: ws } of workspacesWithEndpoints.all()) {
        const room = Math.min(per - (held.get(ws) ?? 0), limit);
        if (room > 0) due.push(...dueOf.all(ws, now, clock, room));
      }
      due.sort((x, y) => x.next_attempt_at - y.next_attempt_at || x.seq - y.seq);
      const picked = due.slice(0, limit).map((r) => r.seq);
      seqs = picked.length === 0 ? [] : lockSeqs.all(holder, until, JSON.stringify(picked)).map((r) => r.seq);
    }
    return seqs.length === 0 ? [] : selectClaimed.all(JSON.stringify(seqs));
  });
  const record = db.transaction((params: Record<string, unknown>) => {
    if (settle.run(params).changes === 0) return false;
    insertAttempt.run(params);
    return true;
  });
  const prune = db.transaction((before: number) => {
    const n = pruneDeliveries.run(before).changes;
    pruneMessages.run(before);
    return n;
  });

  return {
    async createEndpoint(endpoint) {
      insertEndpoint.run({ ...endpoint, events: JSON.stringify(endpoint.events) });
    },
    async listEndpoints(workspaceId) {
      return selectEndpoints.all(workspaceId).map(toEndpoint);
    },
    async getEndpoint(workspaceId, id) {
      const row = selectEndpoint.get(workspaceId, id);
      return row && toEndpoint(row);
    },
    async deleteEndpoint(workspaceId, id) {
      return deleteEndpoint.run(workspaceId, id).changes > 0;
    },
    async enqueue(message, now) {
      return enqueue.immediate(message, now);
    },
    async claim(holder, now, leaseMs, limit, perWorkspace = NO_WORKSPACE_CAP): Promise<ClaimedDelivery[]> {
      if (limit <= 0) return [];
      return claim.immediate(holder, now, leaseMs, limit, perWorkspace).map((r) => ({
        endpointId: r.endpoint_id,
        workspaceId: r.workspace_id,
        eventId: r.message_id,
        eventType: r.type,
        url: r.url,
        secret: r.secret,
        payload: r.payload,
        attempts: r.attempts,
      }));
    },
    async recordAttempt(holder, endpointId, eventId, outcome: AttemptOutcome) {
      return record.immediate({ ...outcome, holder, endpointId, eventId });
    },
    async listDeliveries(workspaceId, endpointId, limit) {
      const rows = selectDeliveries.all(workspaceId, endpointId, limit);
      if (rows.length === 0) return [];
      const history = new Map<string, DeliveryAttempt[]>();
      for (const a of selectAttempts.all(JSON.stringify(rows.map((r) => r.message_id)), endpointId)) {
        const list = history.get(a.message_id) ?? [];
        list.push(toAttempt(a));
        history.set(a.message_id, list);
      }
      return rows.map((r) => toDelivery(r, history.get(r.message_id) ?? []));
    },
    async prune(before) {
      return prune.immediate(before);
    },
  };
}
