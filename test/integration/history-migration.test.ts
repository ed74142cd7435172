/**
 * Calls archived before the call history existed are in it after the upgrade: the migrations backfill the
 * filter fields and the search index (embedded and PostgreSQL).
 */
import path from 'node:path';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { newCall, type Call } from '../../src/domain/call.ts';
import { searchTerms } from '../../src/domain/history.ts';
import { createEmbeddedHistory } from '../../src/store/embedded/history.ts';
import { MIGRATIONS, migrate, openDatabase } from '../../src/store/embedded/db.ts';
import { createPostgresHistory } from '../../src/store/postgres/history.ts';
import { listMigrations, migrate as migratePg } from '../../src/store/postgres/migrate.ts';
import type { HistoryStore } from '../../src/store/types.ts';
import { tempDir } from '../helpers/app.ts';
import { createDatabase, pgReachable } from '../helpers/backends.ts';

const T0 = Date.UTC(2026, 0, 5, 9);

/** An ended phone call as an older livecalls stored it. */
function oldCall(): Call {
  const call = newCall('0123456789abcdef01234567', 'ws1', 'room-1', T0);
  return {
    ...call,
    roomSid: 'RM_1',
    roomCreatedAt: T0,
    endedAt: T0 + 90_000,
    endReason: 'room_finished',
    agentName: null,
    customerName: { value: 'Ada Lovelace', at: T0, id: 'x' },
    transfer: { value: 'human please', at: T0, id: 'y' },
    sentiment: 'negative',
    participants: [
      { sid: 'PA_1', identity: 'bot', name: 'Billing Bot', kind: 'agent', joinedAt: T0, left: true, metadata: '', attributes: {} },
      {
        sid: 'PA_2',
        identity: 'caller',
        name: '',
        kind: 'sip',
        joinedAt: T0,
        left: true,
        metadata: '',
        attributes: { 'sip.phoneNumber': '+442071234567' },
      },
    ],
  };
}

/** The old call, backfilled: found by every filter and by the words of its transcript, name and number. */
async function expectBackfilled(history: HistoryStore): Promise<void> {
  const found = async (q: Parameters<HistoryStore['page']>[1]) => (await history.page('ws1', q, 0, 10)).total;
  expect(
    await Promise.all([
      found({ agent: 'Billing Bot', callType: 'phone', sentiment: 'negative', transferRequested: true, endReason: 'room_finished' }),
      found({ terms: searchTerms('invoice') }),
      found({ terms: searchTerms('ada') }),
      found({ terms: searchTerms('+442071234567') }),
      found({ agent: 'Someone else' }),
    ]),
  ).toEqual([1, 1, 1, 1, 0]);
}

describe('call history migration backfills earlier calls', () => {
  const dir = tempDir('livecalls-history-migration-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('embedded', async () => {
    const before = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE call_history'));
    expect(before).toBeGreaterThan(0);
    const old = new Database(path.join(dir, 'livecalls.db'));
    migrate(old, before);
    const call = oldCall();
    old
      .prepare(
        `INSERT INTO calls (id, workspace_id, room_name, room_sid, active, started_at, ended_at, last_activity_at, state)
         VALUES (?, 'ws1', 'room-1', 'RM_1', 0, ?, ?, ?, ?)`,
      )
      .run(call.id, T0, T0 + 90_000, T0 + 90_000, JSON.stringify(call));
    old
      .prepare("INSERT INTO turns (call_id, id, role, content, at) VALUES (?, 't1', 'customer', 'My invoice is wrong', ?)")
      .run(call.id, T0 + 5);
    old.close();

    const db = openDatabase(dir);
    try {
      await expectBackfilled(createEmbeddedHistory(db));
    } finally {
      db.close();
    }
  });

  it('PostgreSQL (004_call_history.sql)', async (ctx) => {
    if (!(await pgReachable())) return ctx.skip();
    const database = await createDatabase();
    const pool = new pg.Pool({ connectionString: database.url });
    try {
      const client = await pool.connect();
      await client.query(
        'CREATE TABLE livecalls_migrations (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      for (const m of listMigrations().filter((m) => m.version < 4)) {
        await client.query(m.sql);
        await client.query('INSERT INTO livecalls_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      }
      const call = oldCall();
      await client.query(
        `INSERT INTO archived_calls (id, workspace_id, room_name, room_sid, started_at, ended_at, state) VALUES ($1, 'ws1', 'room-1', 'RM_1', $2, $3, $4)`,
        [call.id, T0, T0 + 90_000, JSON.stringify(call)],
      );
      await client.query(
        "INSERT INTO archived_turns (call_id, id, role, content, at) VALUES ($1, 't1', 'customer', 'My invoice is wrong', $2)",
        [call.id, T0 + 5],
      );
      client.release();
      expect(await migratePg(pool)).toContain(4);
      await expectBackfilled(createPostgresHistory(pool));
    } finally {
      await pool.end();
      await database.drop();
    }
  });
});
