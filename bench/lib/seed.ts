/**
 * Live calls for the list, freshness and tenants measurements, through the real HTTP ingest path: LiveKit
 * webhooks (room, agent and phone caller joined) so list items have participants, a phone number and an
 * agent name, then a few transcript turns so they have a last message and a sentiment.
 */
import type { Tenant } from './backends.ts';
import { signedWebhookSet, transcriptBatch } from './payloads.ts';

export interface SeededRoom {
  workspaceId: string;
  apiKey: string;
  roomName: string;
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function post(url: string, body: string, headers: Record<string, string>, ok: number): Promise<void> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  if (res.status !== ok) throw new Error(`POST ${url}: ${res.status} ${text.slice(0, 200)}`);
}

/** `perTenant` calls in each tenant's workspace, rooms named `${prefix}-${i}`. */
export async function seedCalls(
  url: string,
  tenants: readonly Tenant[],
  perTenant: number,
  opts: { prefix?: string; turns?: number; webhooks?: boolean } = {},
): Promise<SeededRoom[]> {
  const prefix = opts.prefix ?? 'call';
  const turns = opts.turns ?? 4;
  const rooms: SeededRoom[] = tenants.flatMap((t) =>
    Array.from({ length: perTenant }, (_, i) => ({ workspaceId: t.workspaceId, apiKey: t.apiKey, roomName: `${prefix}-${i}` })),
  );
  if (opts.webhooks ?? true) {
    const signed = await signedWebhookSet(rooms);
    // Each room's webhooks in order (the room exists before its participants join); rooms in parallel.
    await pool(signed, 16, async (hooks) => {
      for (const h of hooks) {
        await post(`${url}/webhooks/livekit`, h.body, { 'content-type': 'application/webhook+json', authorization: h.authorization }, 200);
      }
    });
  }
  let seq = 0;
  await pool(rooms, 16, async (r) => {
    const headers = { 'content-type': 'application/json', 'x-api-key': r.apiKey, 'x-workspace-id': r.workspaceId };
    const body = transcriptBatch(`seed-${r.roomName}`, seq++, turns);
    await post(`${url}/v2/api/active-calls/${r.roomName}/events`, body, headers, 202);
  });
  return rooms;
}
