/**
 * How a call is kept in the `calls` table. The row's `state` is the call's JSON WITHOUT its live transcript:
 * a call is rewritten on every event, and its last `MAX_LIVE_TURNS` turns (kilobytes, most of the JSON) would
 * be written again each time although the `turns` table already holds every turn. A call read back gets its
 * live transcript from `turns` (the newest turns by time then id, which is exactly the window a call keeps).
 * Rows written with the transcript inside (before this layout) are read as they are. Rows of this layout keep
 * an empty `transcript` and say where it is (`transcriptInTurns`), so that an older livecalls, should it be
 * started on this data again, reads calls without their recent turns rather than failing on them.
 */
import type Database from 'better-sqlite3';
import { MAX_LIVE_TURNS, type Call, type Turn } from '../../domain/call.ts';

export interface CallRows {
  /** The `state` column for `call`. */
  state(call: Call): string;
  /** The call of a row's `state`, with its live transcript. */
  parse(row: { state: string } | undefined): Call | undefined;
  /** Every active call, with its live transcript. */
  active(): Call[];
}

export function callRows(db: Database.Database): CallRows {
  const newestTurns = db.prepare<[string, number], Turn>(
    'SELECT id, role, content, at FROM turns WHERE call_id = ? ORDER BY at DESC, id DESC LIMIT ?',
  );
  const withTranscript = (call: Call & { transcriptInTurns?: true }): Call => {
    if (call.transcriptInTurns) {
      delete call.transcriptInTurns;
      call.transcript = newestTurns.all(call.id, MAX_LIVE_TURNS).reverse();
    }
    return call;
  };
  const activeStates = db.prepare<[], { state: string }>('SELECT state FROM calls WHERE active = 1');
  return {
    state(call) {
      return JSON.stringify({ ...call, transcript: [], transcriptInTurns: true });
    },
    parse(row) {
      return row ? withTranscript(JSON.parse(row.state) as Call) : undefined;
    },
    active() {
      // Parsed while the rows are read (one state in memory at a time), given their turns after: a connection
      // cannot run a query while another one's rows are being read.
      const calls: Call[] = [];
      for (const row of activeStates.iterate()) calls.push(JSON.parse(row.state) as Call);
      return calls.map(withTranscript);
    },
  };
}
