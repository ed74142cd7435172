/** GET /v2/api/call-history (+ /{id}, /export) through the real app: filters, paging, search, export, 400s, tenancy. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXPORT_BATCH } from '../../src/calls/history.ts';
import { createTestApp, type TestApp, type TestWorkspace } from '../helpers/app.ts';
import { endCall, type EndedCallSpec } from '../helpers/history.ts';

const MIN = 60_000;

interface Record {
  id: string;
  roomName: string;
  startTime: number;
  customerName: string;
  callType: string;
  sentiment: string;
}

describe('call history routes', () => {
  let t: TestApp;
  let other: TestWorkspace;
  let T: number;
  const mine: EndedCallSpec[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    other = await t.newWorkspace('other');
    T = t.clock.now - 24 * 60 * MIN;
    for (let i = 0; i < 12; i++) {
      mine.push({
        room: `room-${String(i).padStart(2, '0')}`,
        start: T + i * 10 * MIN,
        end: T + i * 10 * MIN + (i + 1) * MIN,
        agent: i % 3 === 0 ? 'Sales' : 'Support',
        sip: i % 2 === 0,
        customerName: i === 4 ? '=HYPERLINK("http://evil.example","click")' : `Caller ${i}`,
        phone: `+1415555${String(1000 + i)}`,
        turns: i === 7 ? ['my parcel never arrived, this is terrible', 'I am sorry'] : ['hello, just checking my balance', 'sure'],
        transfer: i === 7,
        reason: i === 11 ? 'stale' : 'room_finished',
      });
    }
    for (const c of mine) await endCall(t.services.calls, t.ws.id, c);
    // The other workspace: the same room names and words, never visible to the first.
    for (const c of mine.slice(0, 8)) await endCall(t.services.calls, other.id, { ...c, customerName: 'Intruder' });
    // An active call is not history.
    await t.services.calls.ingest(
      t.ws.id,
      'live',
      [{ type: 'transcript', id: 'live', at: t.clock.now, role: 'customer', content: 'parcel' }],
      'agent',
    );
  }, 120_000);
  afterAll(() => t.close());

  const get = (url: string, ws: TestWorkspace = t.ws) => t.app.inject({ url, headers: ws.headers });
  const page = async (query: string, ws?: TestWorkspace) => {
    const res = await get(`/v2/api/call-history${query}`, ws);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { data: Record[]; pagination: { page: number; limit: number; total: number; totalPages: number } };
  };
  const rooms = (p: { data: Record[] }) => p.data.map((r) => r.roomName);

  it('pages newest first, 10 by default, with the total', async () => {
    const first = await page('');
    expect(rooms(first)).toEqual(
      mine
        .slice(2)
        .reverse()
        .map((c) => c.room),
    );
    expect(first.pagination).toEqual({ page: 1, limit: 10, total: 12, totalPages: 2 });
    const second = await page('?page=2');
    expect(rooms(second)).toEqual(['room-01', 'room-00']);
    const small = await page('?limit=5&page=3');
    expect(rooms(small)).toEqual(['room-01', 'room-00']);
    expect(first.data[0]).toMatchObject({ startTime: Math.floor(mine[11]!.start / 1000), callType: 'web', endReason: 'stale' });
  });

  it('filters by agent, callType, sentiment, transferRequested, endReason and dateRange', async () => {
    expect(rooms(await page('?agent=Sales'))).toEqual(['room-09', 'room-06', 'room-03', 'room-00']);
    expect((await page('?callType=sip')).data.every((r) => r.callType === 'sip')).toBe(true);
    expect((await page('?callType=sip')).pagination.total).toBe(6);
    expect(rooms(await page('?sentiment=negative'))).toEqual(['room-07']);
    expect(rooms(await page('?transferRequested=true'))).toEqual(['room-07']);
    expect((await page('?transferRequested=false')).pagination.total).toBe(11);
    expect(rooms(await page('?endReason=stale'))).toEqual(['room-11']);
    const range = (from: unknown, to: unknown) => `?dateRange=${encodeURIComponent(JSON.stringify({ from, to }))}`;
    const want = ['room-03', 'room-02'];
    expect(rooms(await page(range(new Date(T + 20 * MIN).toISOString(), new Date(T + 40 * MIN).toISOString())))).toEqual(want);
    expect(rooms(await page(range((T + 20 * MIN) / 1000, (T + 40 * MIN) / 1000)))).toEqual(want);
    expect(rooms(await page(range(T + 20 * MIN, String(T + 40 * MIN))))).toEqual(want);
    expect(rooms(await page(`?dateRange=${encodeURIComponent(JSON.stringify({ from: T + 85 * MIN }))}&agent=Sales`))).toEqual([
      'room-9'.replace('9', '09'),
    ]);
  });

  it('searches the transcript, the caller name and number, in this workspace only', async () => {
    expect(rooms(await page('?search=parcel'))).toEqual(['room-07']);
    expect(rooms(await page('?search=Caller%205'))).toEqual(['room-05']);
    expect(rooms(await page(`?search=${encodeURIComponent('+1 415 555 1003')}`))).toEqual(['room-03']);
    expect((await page('?search=intruder')).pagination.total).toBe(0);
    expect((await page('?search=intruder', other)).pagination.total).toBe(8);
    expect((await page('', other)).data.every((r) => r.customerName === 'Intruder')).toBe(true);
  });

  it('refuses bad parameters with a 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['?status=ended', 'querystring.status'],
      ['?limit=101', 'querystring.limit'],
      ['?page=0', 'querystring.page'],
      ['?callType=phone', 'querystring.callType'],
      ['?sentiment=angry', 'querystring.sentiment'],
      ['?endReason=hangup', 'querystring.endReason'],
      ['?dateRange=yesterday', 'querystring.dateRange'],
      [`?dateRange=${encodeURIComponent('{"from":"soon"}')}`, 'querystring.dateRange'],
      [`?dateRange=${encodeURIComponent('{"since":1}')}`, 'querystring.dateRange'],
      ['?search=%21%21%21', 'querystring.search'],
    ];
    for (const [query, field] of cases) {
      const res = await get(`/v2/api/call-history${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.field, query).toBe(field);
    }
    expect((await get('/v2/api/call-history/export?format=xml')).json().error.field).toBe('querystring.format');
    expect((await get('/v2/api/call-history/export?from=tomorrow')).json().error.field).toBe('querystring.from');
    expect((await t.app.inject({ url: '/v2/api/call-history' })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/v2/api/call-history', headers: { ...t.ws.headers, 'x-workspace-id': other.id } })).statusCode).toBe(
      403,
    );
  });

  it('gives one ended call with its full transcript and insights; another workspace gets a 404', async () => {
    const [call] = (await page('?search=parcel')).data;
    const res = await get(`/v2/api/call-history/${call!.id}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ roomName: 'room-07', transferRequested: true, sentiment: 'negative' });
    expect(body.transcript.map((x: { content: string }) => x.content)).toEqual(['my parcel never arrived, this is terrible', 'I am sorry']);
    expect(body.insights).toMatchObject({ sentiment: 'negative', state: expect.any(String) });
    expect(body.insights.topics).toEqual(body.topics);
    expect((await get(`/v2/api/call-history/${call!.id}`, other)).statusCode).toBe(404);
    expect((await get('/v2/api/call-history/not-an-id')).statusCode).toBe(400);
    // The call route still answers for an ended call.
    expect((await get(`/v2/api/calls/${call!.id}`)).json()).toMatchObject({ status: 'ended', roomName: 'room-07' });
  });

  it('exports NDJSON and CSV, oldest first, with formulas defused and cells escaped', async () => {
    const nd = await get('/v2/api/call-history/export');
    expect(nd.statusCode).toBe(200);
    expect(nd.headers['content-type']).toContain('application/x-ndjson');
    const lines = nd.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record);
    expect(lines.map((r) => r.roomName)).toEqual(mine.map((c) => c.room));

    const csv = await get(`/v2/api/call-history/export?format=csv&from=${T + 30 * MIN}&to=${new Date(T + 50 * MIN).toISOString()}`);
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = csv.body.split('\r\n').filter(Boolean);
    expect(rows[0]).toMatch(/^id,roomName,startTime,endTime,duration,aiAgentName,customerName,customerPhone,callType/);
    expect(rows).toHaveLength(3);
    // room-04: a formula as caller name is text, quoted because of its quotes and comma.
    expect(rows[2]).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    // A phone number starts with +: defused too.
    expect(rows[1]).toContain(",'+14155551003,");
    expect(csv.body).not.toContain('Intruder');
  });

  it('streams an export page by page, never the whole range at once', async () => {
    const n = EXPORT_BATCH + 20;
    const base = T - 3 * 24 * 60 * MIN;
    for (let i = 0; i < n; i++)
      await endCall(t.services.calls, other.id, { room: `bulk-${i}`, start: base + i * 1000, end: base + i * 1000 + 500 });
    const spy = vi.spyOn(t.services.stores.history, 'exportBatch');
    try {
      const res = await get(`/v2/api/call-history/export?to=${T - 1}`, other);
      expect(res.body.trim().split('\n')).toHaveLength(n);
      expect(spy.mock.calls.map((c) => c[4])).toEqual([EXPORT_BATCH, EXPORT_BATCH]);
      const csv = await get(`/v2/api/call-history/export?format=csv&to=${T - 1}`, other);
      expect(csv.body.split('\r\n').filter(Boolean)).toHaveLength(n + 1);
    } finally {
      spy.mockRestore();
    }
  }, 120_000);
});
