/**
 * A SIMULATED LiveKit server API, for `npm run demo` and the tests: the livecalls server never starts or
 * needs it. The demo points LIVEKIT_URL at it so that end-call, takeover and transfer work on simulated
 * calls without a LiveKit server; tests drive it the same way. It speaks the Twirp JSON
 * routes livekit-server-sdk calls, checks every token with the SDK's own TokenVerifier and the grant LiveKit
 * requires for the method (wrong grant: 403 `permission_denied`, as LiveKit answers), keeps rooms,
 * participants and tracks (livekit-server-state.ts) and sends the signed webhooks LiveKit would.
 *
 * It covers what livecalls calls: RoomService DeleteRoom, ListRooms, ListParticipants, GetParticipant,
 * MutePublishedTrack, and SIP TransferSIPParticipant, and logs every request it is sent (`requests`,
 * `actionsOn`) so a test can tell that nothing was asked of a room. It is not LiveKit: no media, no
 * signalling, no real SIP, no room timeouts, no multi-node behaviour, no webhook retries or drops.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteRoomRequest,
  DeleteRoomResponse,
  ListParticipantsRequest,
  ListParticipantsResponse,
  ListRoomsRequest,
  ListRoomsResponse,
  MuteRoomTrackRequest,
  MuteRoomTrackResponse,
  ParticipantInfo_Kind,
  RoomParticipantIdentity,
  TransferSIPParticipantRequest,
} from '@livekit/protocol';
import { TokenVerifier, type ClaimGrants } from 'livekit-server-sdk';
import { StandInState } from './state.ts';

export { httpSink, type WebhookSink } from './state.ts';

export interface TwirpFailure {
  status: number;
  code: string;
  msg: string;
  meta?: Record<string, string>;
}

class TwirpError extends Error {
  constructor(readonly failure: TwirpFailure) {
    super(failure.msg);
  }
}

/** protobuf-es's JSON value type (a transitive dependency, so taken from a signature). */
type JsonValue = Parameters<typeof ListRoomsRequest.fromJson>[0];

/** The methods livecalls calls that change a room; the others only read. */
const ACTIONS = new Set(['livekit.RoomService/DeleteRoom', 'livekit.RoomService/MutePublishedTrack', 'livekit.SIP/TransferSIPParticipant']);

const notFound = (msg: string) => new TwirpError({ status: 404, code: 'not_found', msg });

type Grant = (g: ClaimGrants, body: JsonValue) => boolean;

const field = (body: JsonValue, name: string): unknown =>
  body && typeof body === 'object' && !Array.isArray(body) ? body[name] : undefined;
const roomAdmin =
  (roomField: string): Grant =>
  (g, body) =>
    g.video?.roomAdmin === true && g.video.room === field(body, roomField);

export class LiveKitStandIn extends StandInState {
  url = '';
  /** When set, every authorised call (of `method`, if given) answers this Twirp error. */
  failWith: (TwirpFailure & { method?: string }) | undefined;
  /** Accepted SIP transfers. */
  readonly transfers: { room: string; identity: string; to: string }[] = [];
  /**
   * Every request with a valid token, in order: its method (`livekit.RoomService/DeleteRoom`) and the room
   * it names (`room` or `roomName` in the body), whether or not its grant allowed it. Tests read it to tell
   * that livecalls did not ask LiveKit to act on a room.
   */
  readonly requests: { method: string; room: string | undefined }[] = [];
  close: () => Promise<void> = async () => {};

  /** The requests (from the `since`-th on) that would change `room`: delete it, mute a track, transfer a caller. */
  actionsOn(room: string, since = 0): string[] {
    return this.requests
      .slice(since)
      .filter((r) => r.room === room && ACTIONS.has(r.method))
      .map((r) => r.method);
  }

  /** Method -> [grant LiveKit requires, handler]. */
  readonly methods: Record<string, [Grant, (body: JsonValue) => JsonValue]> = {
    'livekit.RoomService/ListRooms': [
      (g) => g.video?.roomList === true,
      (body) => {
        const { names } = ListRoomsRequest.fromJson(body);
        const rooms = [...this.rooms.values()].map((r) => r.room).filter((r) => names.length === 0 || names.includes(r.name));
        return new ListRoomsResponse({ rooms }).toJson();
      },
    ],
    'livekit.RoomService/DeleteRoom': [
      (g) => g.video?.roomCreate === true,
      (body) => {
        if (!this.deleteRoom(DeleteRoomRequest.fromJson(body).room)) throw notFound('requested room does not exist');
        return new DeleteRoomResponse().toJson();
      },
    ],
    'livekit.RoomService/ListParticipants': [
      roomAdmin('room'),
      (body) => {
        const live = this.room(ListParticipantsRequest.fromJson(body).room);
        if (!live) throw notFound('requested room does not exist');
        return new ListParticipantsResponse({ participants: [...live.participants.values()] }).toJson();
      },
    ],
    'livekit.RoomService/GetParticipant': [
      roomAdmin('room'),
      (body) => {
        const { room, identity } = RoomParticipantIdentity.fromJson(body);
        const p = this.participant(room, identity);
        if (!p) throw notFound('participant does not exist');
        return p.toJson();
      },
    ],
    'livekit.RoomService/MutePublishedTrack': [
      roomAdmin('room'),
      (body) => {
        const req = MuteRoomTrackRequest.fromJson(body);
        if (!this.participant(req.room, req.identity)) throw notFound('participant does not exist');
        const track = this.setMuted(req.room, req.identity, req.trackSid, req.muted);
        if (!track) throw notFound('track is not found');
        return new MuteRoomTrackResponse({ track }).toJson();
      },
    ],
    'livekit.SIP/TransferSIPParticipant': [
      (g, body) => roomAdmin('roomName')(g, body) && g.sip?.call === true,
      (body) => {
        const req = TransferSIPParticipantRequest.fromJson(body, { ignoreUnknownFields: true });
        const p = this.participant(req.roomName, req.participantIdentity);
        if (!p) throw notFound('participant does not exist');
        if (p.kind !== ParticipantInfo_Kind.SIP)
          throw new TwirpError({ status: 412, code: 'failed_precondition', msg: 'participant is not a SIP participant' });
        this.transfers.push({ room: req.roomName, identity: req.participantIdentity, to: req.transferTo });
        // After an accepted REFER the caller is connected elsewhere and leaves the room.
        this.removeParticipant(req.roomName, req.participantIdentity);
        return {};
      },
    ],
  };
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function startLiveKitStandIn(apiKey: string, apiSecret: string, now: () => number = Date.now): Promise<LiveKitStandIn> {
  const verifier = new TokenVerifier(apiKey, apiSecret);
  const standIn = new LiveKitStandIn(apiKey, apiSecret, now);

  async function handle(method: string, authorization: string, raw: string): Promise<JsonValue> {
    let grants: ClaimGrants;
    try {
      grants = await verifier.verify(authorization.replace(/^Bearer /, ''));
    } catch {
      throw new TwirpError({ status: 401, code: 'unauthenticated', msg: 'invalid token' });
    }
    const entry = standIn.methods[method];
    if (!entry) throw new TwirpError({ status: 404, code: 'bad_route', msg: `no handler for ${method}` });
    const body = (raw ? JSON.parse(raw) : {}) as JsonValue;
    const room = field(body, 'room') ?? field(body, 'roomName');
    standIn.requests.push({ method, room: typeof room === 'string' ? room : undefined });
    if (!entry[0](grants, body)) throw new TwirpError({ status: 403, code: 'permission_denied', msg: 'permissions denied' });
    const fail = standIn.failWith;
    if (fail && (!fail.method || fail.method === method)) throw new TwirpError(fail);
    return entry[1](body);
  }

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const method = req.url?.replace(/^\/twirp\//, '') ?? '';
      handle(method, req.headers.authorization ?? '', raw).then(
        (body) => answer(res, 200, body),
        (err: unknown) => {
          const f: TwirpFailure = err instanceof TwirpError ? err.failure : { status: 500, code: 'internal', msg: String(err) };
          answer(res, f.status, { code: f.code, msg: f.msg, ...(f.meta ? { meta: f.meta } : {}) });
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return standIn;
}

export type StandIn = LiveKitStandIn;
