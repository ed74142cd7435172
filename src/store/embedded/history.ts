/**
 * The embedded database as call history: `call_history` holds each ended call's filter fields (its `seq` is
 * the call's row in the `call_search` full-text index, FTS5), filled whenever an ended call is written
 * (`indexEnded`), by the embedded store's own end path and by `ArchiveStore.put`.
 */
import type Database from 'better-sqlite3';
import type { Call, Turn } from '../../domain/call.ts';
import { historyFields, searchDocument } from '../../domain/history.ts';
import { StatColumns } from '../../domain/stats.ts';
import { archivedCall, filterColumns, LONG_CALL_MS, statFlagsSql } from '../history.ts';
import type { HistoryQuery, HistoryStore } from '../types.ts';
import { callRows } from './call-rows.ts';

/** Writes an ended call's history row and search document; call inside the transaction that wrote the call. */
export function historyIndexer(db: Database.Database): (call: Call) => void {
  const upsert = db.prepare<Record<string, string | number | null>, { seq: number }>(
    `INSERT INTO call_history (call_id, workspace_id, started_at, ended_at, agent, call_type, sentiment, transfer_requested,
                               end_reason, customer_name, customer_phone)
     VALUES (@callId, @workspaceId, @startedAt, @endedAt, @agent, @callType, @sentiment, @transferRequested,
             @endReason, @customerName, @customerPhone)
     ON CONFLICT(call_id) DO UPDATE SET started_at = excluded.started_at, ended_at = excluded.ended_at,
       agent = excluded.agent, call_type = excluded.call_type, sentiment = excluded.sentiment,
       transfer_requested = excluded.transfer_requested, end_reason = excluded.end_reason,
       customer_name = excluded.customer_name, customer_phone = excluded.customer_phone
     RETURNING seq`,
  );
  const turns = db.prepare<[string], Turn>('SELECT id, role, content, at FROM turns WHERE call_id = ? ORDER BY at, id');
  const unindex = db.prepare('DELETE FROM call_search WHERE rowid = ?');
  const index = db.prepare('INSERT INTO call_search (rowid, body) VALUES (?, ?)');
  return (call) => {
    const f = historyFields(call);
    const row = upsert.get({ ...f, transferRequested: f.transferRequested ? 1 : 0 });
    if (!row) return;
    unindex.run(row.seq);
    index.run(row.seq, searchDocument(call, turns.all(call.id)));
  };
}

/** started_at, ended_at, agent, flags (see `statFlags`) */
type StatRow = [number, number, string, number];

export function createEmbeddedHistory(db: Database.Database): HistoryStore {
  const rows = callRows(db);
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string): Database.Statement => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare(sql)));
    return s;
  };
  /** The same, answering the first column's value. */
  const plucked = new Map<string, Database.Statement>();
  const pluck = (sql: string): Database.Statement => {
    let s = plucked.get(sql);
    if (!s) plucked.set(sql, (s = db.prepare(sql).pluck(true)));
    return s;
  };

  /**
   * A search starts from the full-text index (CROSS JOIN keeps SQLite to that order): the matching calls are
   * read and sorted, rather than the workspace's whole index walked in date order and checked one by one.
   */
  function source(q: HistoryQuery): string {
    return q.terms?.length ? 'call_search s CROSS JOIN call_history h ON h.seq = s.rowid' : 'call_history h';
  }

  function where(workspaceId: string, q: HistoryQuery): { sql: string; params: (string | number)[] } {
    const conds: string[] = [];
    const params: (string | number)[] = [];
    if (q.terms?.length) {
      conds.push('call_search MATCH ?');
      params.push(q.terms.map((t) => `"${t}"`).join(' '));
    }
    conds.push('h.workspace_id = ?');
    params.push(workspaceId);
    for (const [column, value] of filterColumns(q)) {
      conds.push(`h.${column} = ?`);
      params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    }
    if (q.from !== undefined) {
      conds.push('h.started_at >= ?');
      params.push(q.from);
    }
    if (q.to !== undefined) {
      conds.push('h.started_at < ?');
      params.push(q.to);
    }
    return { sql: conds.join(' AND '), params };
  }

  const selectOne = db.prepare<[string, string], { state: string }>(
    'SELECT c.state FROM call_history h JOIN calls c ON c.id = h.call_id WHERE h.workspace_id = ? AND h.call_id = ? AND c.active = 0',
  );
  const exportRows = db.prepare<[string, number, number, number, number, string, number], { state: string }>(
    `SELECT c.state FROM call_history h JOIN calls c ON c.id = h.call_id
     WHERE h.workspace_id = ? AND h.started_at >= ? AND h.started_at < ?
       AND (h.started_at > ? OR (h.started_at = ? AND h.call_id > ?))
     ORDER BY h.started_at, h.call_id LIMIT ?`,
  );
  const oldest = db.prepare<[number, number], { seq: number; call_id: string }>(
    `SELECT seq, call_id FROM call_history WHERE ended_at < ?
       AND NOT EXISTS (SELECT 1 FROM archive_pending p WHERE p.call_id = call_history.call_id)
     ORDER BY ended_at LIMIT ?`,
  );
  const deleteSearch = db.prepare('DELETE FROM call_search WHERE rowid = ?');
  const deleteHistory = db.prepare('DELETE FROM call_history WHERE seq = ?');
  const deleteTurns = db.prepare('DELETE FROM turns WHERE call_id = ?');
  const deleteCall = db.prepare('DELETE FROM calls WHERE id = ? AND active = 0');
  const selectArchived = db
    .prepare('SELECT call_id FROM call_history WHERE workspace_id = ? AND call_id IN (SELECT value FROM json_each(?))')
    .pluck(true);
  const purge = db.transaction((endedBefore: number, limit: number) => {
    const victims = oldest.all(endedBefore, limit);
    for (const v of victims) {
      deleteSearch.run(v.seq);
      deleteHistory.run(v.seq);
      deleteTurns.run(v.call_id);
      deleteCall.run(v.call_id);
    }
    return victims.length;
  });

  return {
    async page(workspaceId, query, offset, limit) {
      const w = where(workspaceId, query);
      const params = w.params;
      const total = (prepared(`SELECT count(*) AS n FROM ${source(query)} WHERE ${w.sql}`).get(...params) as { n: number }).n;
      const states = prepared(
        // The page's keys first, then only those calls' JSON: not the JSON of every match carried through the sort.
        `SELECT c.state FROM (SELECT h.call_id, h.started_at FROM ${source(query)} WHERE ${w.sql}
           ORDER BY h.started_at DESC, h.call_id DESC LIMIT ? OFFSET ?) p
         JOIN calls c ON c.id = p.call_id ORDER BY p.started_at DESC, p.call_id DESC`,
      ).all(...params, limit, offset) as { state: string }[];
      return { total, calls: states.map((r) => archivedCall(JSON.parse(r.state) as Call)) };
    },
    async get(workspaceId, callId) {
      return rows.parse(selectOne.get(workspaceId, callId));
    },
    async transcripts(workspaceId, callIds) {
      const out = new Map<string, Turn[]>(callIds.map((id) => [id, []]));
      const turns = prepared(
        `SELECT t.call_id, t.id, t.role, t.content, t.at FROM turns t JOIN call_history h ON h.call_id = t.call_id
         WHERE h.workspace_id = ? AND t.call_id IN (SELECT value FROM json_each(?)) ORDER BY t.call_id, t.at, t.id`,
      ).all(workspaceId, JSON.stringify(callIds)) as (Turn & { call_id: string })[];
      for (const { call_id, ...turn } of turns) out.get(call_id)?.push(turn);
      return out;
    },
    async exportBatch(workspaceId, from, to, after, limit) {
      const key = after ?? { startedAt: from - 1, id: '' };
      return exportRows
        .all(workspaceId, from, to, key.startedAt, key.startedAt, key.id, limit)
        .map((r) => archivedCall(JSON.parse(r.state) as Call));
    },
    async overlapping(workspaceId, from, to, filters, activeIds = []) {
      const w = where(workspaceId, filters);
      const cols = `h.started_at, h.ended_at, h.agent, ${statFlagsSql('h.')}`;
      // The long calls by their own index (the planner prefers the covering one, and would read every older call).
      // Why one JSON array rather than rows: a busy day is ten thousand rows, and building a JavaScript value per
      // cell costs four times what SQLite's json_group_array and one JSON.parse do (27 ms against 8 ms a day).
      const sql = `SELECT json_group_array(json_array(started_at, ended_at, agent, flags)) FROM (
        SELECT ${cols} FROM call_history h WHERE ${w.sql} AND h.started_at >= ? AND h.started_at < ? AND h.ended_at > ?
        UNION ALL
        SELECT ${cols} FROM call_history h INDEXED BY call_history_long WHERE ${w.sql} AND h.ended_at - h.started_at > ${LONG_CALL_MS} AND h.started_at < ? AND h.ended_at > ?)`;
      const p = w.params;
      const rows = JSON.parse(pluck(sql).get(...p, from - LONG_CALL_MS, to, from, ...p, from - LONG_CALL_MS, from) as string) as StatRow[];
      const calls = new StatColumns(rows.length);
      for (const [startedAt, endedAt, agent, flags] of rows) calls.push(startedAt, endedAt, agent, flags);
      // Right after, with nothing in between (one thread, synchronous statements): the same moment.
      const archived = activeIds.length > 0 ? (selectArchived.all(workspaceId, JSON.stringify(activeIds)) as string[]) : [];
      return { calls, archived };
    },
    async purge(endedBefore, limit) {
      return purge.immediate(endedBefore, limit);
    },
  };
}
