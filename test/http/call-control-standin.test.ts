/** The LiveKit stand-in itself: tokens and grants checked as LiveKit checks them, webhooks as LiveKit sends them. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessToken, RoomServiceClient, WebhookReceiver, type VideoGrant } from 'livekit-server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { LK_KEY, LK_SECRET } from '../helpers/app.ts';
import { httpSink, startLiveKitStandIn, type StandIn } from '../helpers/livekit-server.ts';
import { AGENT, post, startCall, wired, type Wired } from '../helpers/livekit-server-setup.ts';

let w: Wired | undefined;
let lk: StandIn | undefined;
afterEach(async () => {
  await w?.close();
  await lk?.close();
  w = lk = undefined;
});

type SipGrant = { admin?: boolean; call?: boolean };

async function twirp(url: string, method: string, body: unknown, grant: VideoGrant, sip?: SipGrant, secret = LK_SECRET) {
  const token = new AccessToken(LK_KEY, secret, { ttl: '1m', identity: 'tester' });
  token.addGrant(grant);
  if (sip) token.addSIPGrant(sip);
  const res = await fetch(`${url}/twirp/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await token.toJwt()}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { code?: string } };
}

describe('LiveKit stand-in', () => {
  it('refuses a wrong grant with permission_denied (403) and a bad signature with 401, as LiveKit does', async () => {
    lk = await startLiveKitStandIn(LK_KEY, LK_SECRET);
    lk.addRoom({ name: 'room-a' });
    lk.addParticipant('room-a', { identity: 'caller', kind: 'sip', tracks: ['TR_1'] });
    const cases: [string, unknown, VideoGrant, SipGrant | undefined][] = [
      ['livekit.RoomService/ListRooms', {}, { roomCreate: true }, undefined],
      ['livekit.RoomService/DeleteRoom', { room: 'room-a' }, { roomList: true }, undefined],
      ['livekit.RoomService/GetParticipant', { room: 'room-a', identity: 'caller' }, { roomAdmin: true, room: 'room-b' }, undefined],
      ['livekit.RoomService/ListParticipants', { room: 'room-a' }, { roomList: true }, undefined],
      [
        'livekit.RoomService/MutePublishedTrack',
        { room: 'room-a', identity: 'caller', trackSid: 'TR_1', muted: true },
        { roomJoin: true, room: 'room-a' },
        undefined,
      ],
      [
        'livekit.SIP/TransferSIPParticipant',
        { roomName: 'room-a', participantIdentity: 'caller', transferTo: 'tel:+1415' },
        { roomAdmin: true, room: 'room-a' },
        undefined,
      ],
      [
        'livekit.SIP/TransferSIPParticipant',
        { roomName: 'room-a', participantIdentity: 'caller', transferTo: 'tel:+1415' },
        { roomAdmin: true, room: 'room-a' },
        { admin: true },
      ],
    ];
    for (const [method, body, grant, sip] of cases) {
      const res = await twirp(lk.url, method, body, grant, sip);
      expect([method, res.status, res.body.code]).toEqual([method, 403, 'permission_denied']);
    }
    const forged = await twirp(
      lk.url,
      'livekit.RoomService/ListRooms',
      {},
      { roomList: true },
      undefined,
      'not-the-secret-0123456789abcdefghijkl',
    );
    expect([forged.status, forged.body.code]).toEqual([401, 'unauthenticated']);
    // Nothing changed.
    expect(lk.participant('room-a', 'caller')?.tracks[0]?.muted).toBe(false);
    expect(lk.transfers).toEqual([]);
    // The right grants work, through the SDK itself.
    const rooms = new RoomServiceClient(lk.url, LK_KEY, LK_SECRET);
    expect((await rooms.listRooms()).map((r) => r.name)).toEqual(['room-a']);
    expect((await rooms.mutePublishedTrack('room-a', 'caller', 'TR_1', true))?.muted).toBe(true);
  });

  it('sends the webhooks LiveKit would, signed, and livecalls accepts every one', async () => {
    w = await wired();
    await startCall(w, 'call-hooks');
    expect(w.lk.sent.map((e) => e.event)).toEqual(['room_started', 'participant_joined', 'participant_joined']);
    await post(w, 'call-hooks', 'remove-agent', { participantIdentity: AGENT });
    await post(w, 'call-hooks', 'end-call');
    await w.lk.webhooksDelivered();
    // No webhook for a muted track (LiveKit has none); DeleteRoom: everyone leaves, then the room finishes.
    expect(w.lk.sent.map((e) => e.event).slice(3)).toEqual(['participant_left', 'participant_left', 'room_finished']);
  });

  it('posts webhooks over HTTP with LiveKit signatures', async () => {
    const received: string[] = [];
    const receiver = new WebhookReceiver(LK_KEY, LK_SECRET);
    const hook = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        receiver.receive(raw, req.headers.authorization).then(
          (e) => {
            received.push(`${e.event} ${req.headers['content-type']}`);
            res.writeHead(200).end();
          },
          () => res.writeHead(401).end(),
        );
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      lk = await startLiveKitStandIn(LK_KEY, LK_SECRET);
      lk.sink = httpSink(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/`);
      lk.addRoom({ name: 'room-http' });
      lk.deleteRoom('room-http');
      await lk.webhooksDelivered();
      expect(received).toEqual(['room_started application/webhook+json', 'room_finished application/webhook+json']);
    } finally {
      await new Promise<void>((r) => hook.close(() => r()));
    }
  });
});
