/**
 * PostgreSQL as call history: the filter columns and the `search` vector (tsvector, GIN-indexed) of
 * `archived_calls` are written with every archived call (`indexArchived`, in the archive's transaction).
 */
import type pg from 'pg';
import type { Call, Turn } from '../../domain/call.ts';
import { historyFields, searchDocument } from '../../domain/history.ts';
import { cleanText } from '../../domain/limits.ts';
import { StatColumns } from '../../domain/stats.ts';
import { archivedCall, filterColumns, LONG_CALL_MS, statFlagsSql } from '../history.ts';
import type { HistoryQuery, HistoryStore } from '../types.ts';

/** Fills the history columns of an archived call from the call and its turns as stored. */
export async function indexArchived(client: pg.PoolClient, call: Call): Promise<void> {
  const f = historyFields(call);
  const turns = await client.query<Turn>(
    'SELECT id, role, content, at FROM archived_turns WHERE call_id = $1 ORDER BY at, id COLLATE "C"',
    [call.id],
  );
  await client.query(
    `UPDATE archived_calls SET agent = $2, call_type = $3, sentiment = $4, transfer_requested = $5, end_reason = $6,
       customer_name = $7, customer_phone = $8, search = to_tsvector('simple', $9) WHERE id = $1`,
    [
      call.id,
      cleanText(f.agent),
      f.callType,
      f.sentiment,
      f.transferRequested,
      f.endReason,
      cleanText(f.customerName),
      cleanText(f.customerPhone),
      searchDocument(call, turns.rows),
    ],
  );
}

/** Conditions and parameters of a query; `$1` is the workspace. */
function where(q: HistoryQuery, params: unknown[]): string {
  const conds = ['workspace_id = $1'];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conds.push(sql.replace('?', `$${params.length}`));
  };
  for (const [column, value] of filterColumns(q)) add(`${column} = ?`, value);
  if (q.from !== undefined) add('started_at >= ?', q.from);
  if (q.to !== undefined) add('started_at < ?', q.to);
  if (q.terms?.length) add("search @@ to_tsquery('simple', ?)", q.terms.join(' & '));
  return conds.join(' AND ');
}

export function createPostgresHistory(pool: pg.Pool): HistoryStore {
  const q = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => pool.query<R>(text, values);
  return {
    async page(workspaceId, query, offset, limit) {
      const params: unknown[] = [workspaceId];
      const w = where(query, params);
      const [count, page] = await Promise.all([
        q<{ n: number }>(`SELECT count(*)::int AS n FROM archived_calls WHERE ${w}`, params),
        q<{ state: Call }>(
          // The page's keys first, then only those calls' JSON: not the JSON of every match carried through the sort.
          `SELECT c.state FROM (SELECT id, started_at FROM archived_calls WHERE ${w}
             ORDER BY started_at DESC, id DESC LIMIT ${limit} OFFSET ${offset}) p
           JOIN archived_calls c ON c.id = p.id ORDER BY p.started_at DESC, p.id DESC`,
          params,
        ),
      ]);
      return { total: count.rows[0]?.n ?? 0, calls: page.rows.map((r) => archivedCall(r.state)) };
    },
    async get(workspaceId, callId) {
      const row = (await q<{ state: Call }>('SELECT state FROM archived_calls WHERE workspace_id = $1 AND id = $2', [workspaceId, callId]))
        .rows[0];
      return row && archivedCall(row.state);
    },
    async transcripts(workspaceId, callIds) {
      const out = new Map<string, Turn[]>(callIds.map((id) => [id, []]));
      const rows = await q<Turn & { call_id: string }>(
        `SELECT t.call_id, t.id, t.role, t.content, t.at FROM archived_turns t JOIN archived_calls c ON c.id = t.call_id
         WHERE c.workspace_id = $1 AND t.call_id = ANY($2::text[]) ORDER BY t.call_id, t.at, t.id COLLATE "C"`,
        [workspaceId, [...callIds]],
      );
      for (const { call_id, ...turn } of rows.rows) out.get(call_id)?.push(turn);
      return out;
    },
    async exportBatch(workspaceId, from, to, after, limit) {
      const key = after ?? { startedAt: from - 1, id: '' };
      const rows = await q<{ state: Call }>(
        `SELECT state FROM archived_calls WHERE workspace_id = $1 AND started_at >= $2 AND started_at < $3
           AND (started_at, id COLLATE "C") > ($4, $5) ORDER BY started_at, id COLLATE "C" LIMIT $6`,
        [workspaceId, from, to, key.startedAt, key.id, limit],
      );
      return rows.rows.map((r) => archivedCall(r.state));
    },
    async overlapping(workspaceId, from, to, filters, activeIds = []) {
      const params: unknown[] = [workspaceId];
      const w = where(filters, params);
      const n = params.length;
      params.push(from - LONG_CALL_MS, to, from, activeIds);
      const cols = `started_at, ended_at, agent, ${statFlagsSql()}`;
      // Long calls by their own partial index: `ended_at + 0` keeps the planner from walking the index on
      // ended_at instead (every call of the range, each read from the table, to find the few long ones).
      // Why a column per field rather than a row per call: a busy day is ten thousand rows, and pg parses each
      // cell of each row on its own; four joined columns cost a fraction of that. Agent names travel as JSON,
      // which escapes whatever they hold. The archived active ids are read in the same statement: one snapshot.
      const res = await q<{ s: string | null; e: string | null; a: string[] | null; f: string | null; archived: string[] }>(
        `SELECT string_agg(started_at::text, ',') AS s, string_agg(ended_at::text, ',') AS e, json_agg(agent) AS a,
                string_agg(flags::text, ',') AS f,
                (SELECT coalesce(array_agg(id), '{}') FROM archived_calls WHERE workspace_id = $1 AND id = ANY ($${n + 4}::text[])) AS archived
         FROM (
           SELECT ${cols} FROM archived_calls WHERE ${w} AND started_at >= $${n + 1} AND started_at < $${n + 2} AND ended_at > $${n + 3}
           UNION ALL
           SELECT ${cols} FROM archived_calls WHERE ${w} AND ended_at - started_at > ${LONG_CALL_MS}
             AND started_at < $${n + 1} AND ended_at + 0 > $${n + 3}) overlapping`,
        params,
      );
      const row = res.rows[0];
      const calls = new StatColumns(row?.a?.length ?? 0);
      if (row?.s && row.e && row.a && row.f) {
        const starts = row.s.split(',');
        const ends = row.e.split(',');
        const flags = row.f.split(',');
        row.a.forEach((agent, i) => calls.push(Number(starts[i]), Number(ends[i]), agent, Number(flags[i])));
      }
      return { calls, archived: row?.archived ?? [] };
    },
    async purge(endedBefore, limit) {
      // Turns go with their call (ON DELETE CASCADE).
      const result = await q(
        `DELETE FROM archived_calls WHERE id IN (SELECT id FROM archived_calls WHERE ended_at < $1 ORDER BY ended_at LIMIT $2)`,
        [endedBefore, limit],
      );
      return result.rowCount ?? 0;
    },
  };
}
