/**
 * Seeds N archived calls for the history benchmark. Embedded: through the archive's own `put` (the path an
 * ended call takes), many per transaction. PostgreSQL: in bulk, 2,000 calls per statement, with the same
 * fields and search document `put` writes (domain/history.ts), since a million single puts would take most
 * of an hour of round trips; the database then analyses the tables, as autovacuum would.
 */
import pg from 'pg';
import { historyFields, searchDocument } from '../../src/domain/history.ts';
import { createEmbeddedArchive } from '../../src/store/embedded/archive.ts';
import { openDatabase } from '../../src/store/embedded/db.ts';
import { historyGenerator } from './history-data.ts';

export interface SeedSpec {
  workspaceId: string;
  calls: number;
  endAt: number;
  days: number;
  seed?: number;
  progress?: (done: number) => void;
}

export async function seedEmbeddedHistory(dataDir: string, spec: SeedSpec): Promise<void> {
  const db = openDatabase(dataDir);
  try {
    const archive = createEmbeddedArchive(db);
    const nth = historyGenerator(spec.workspaceId, spec.calls, spec.endAt, spec.days, spec.seed);
    const BATCH = 5_000;
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const { call, transcript } = nth(i);
        void archive.put(call, transcript);
      }
    });
    for (let i = 0; i < spec.calls; i += BATCH) {
      batch.immediate(i, Math.min(spec.calls, i + BATCH));
      spec.progress?.(Math.min(spec.calls, i + BATCH));
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

export async function seedPostgresHistory(url: string, spec: SeedSpec): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    const nth = historyGenerator(spec.workspaceId, spec.calls, spec.endAt, spec.days, spec.seed);
    const BATCH = 2_000;
    for (let i = 0; i < spec.calls; i += BATCH) {
      const calls = [];
      const turns = [];
      for (let j = i; j < Math.min(spec.calls, i + BATCH); j++) {
        const { call, transcript } = nth(j);
        const f = historyFields(call);
        calls.push({
          id: call.id,
          workspace_id: call.workspaceId,
          room_name: call.roomName,
          room_sid: call.roomSid,
          started_at: f.startedAt,
          ended_at: f.endedAt,
          state: call,
          agent: f.agent,
          call_type: f.callType,
          sentiment: f.sentiment,
          transfer_requested: f.transferRequested,
          end_reason: f.endReason,
          customer_name: f.customerName,
          customer_phone: f.customerPhone,
          doc: searchDocument(call, transcript),
        });
        for (const t of transcript) turns.push({ call_id: call.id, ...t });
      }
      await pool.query(
        `INSERT INTO archived_calls (id, workspace_id, room_name, room_sid, started_at, ended_at, state, agent, call_type, sentiment,
                                     transfer_requested, end_reason, customer_name, customer_phone, search)
         SELECT id, workspace_id, room_name, room_sid, started_at, ended_at, state, agent, call_type, sentiment,
                transfer_requested, end_reason, customer_name, customer_phone, to_tsvector('simple', doc)
         FROM jsonb_to_recordset($1::jsonb) AS c(id text, workspace_id text, room_name text, room_sid text, started_at bigint,
           ended_at bigint, state jsonb, agent text, call_type text, sentiment text, transfer_requested boolean, end_reason text,
           customer_name text, customer_phone text, doc text)`,
        [JSON.stringify(calls)],
      );
      await pool.query(
        `INSERT INTO archived_turns (call_id, id, role, content, at)
         SELECT call_id, id, role, content, at FROM jsonb_to_recordset($1::jsonb) AS t(call_id text, id text, role text, content text, at bigint)`,
        [JSON.stringify(turns)],
      );
      spec.progress?.(Math.min(spec.calls, i + BATCH));
    }
    await pool.query('VACUUM ANALYZE archived_calls');
    await pool.query('VACUUM ANALYZE archived_turns');
  } finally {
    await pool.end();
  }
}
