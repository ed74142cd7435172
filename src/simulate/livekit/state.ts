/**
 * The simulated LiveKit server's state (see server.ts): rooms, their participants and published tracks, as @livekit/protocol
 * messages. Every change sends the signed webhook LiveKit would send for it (room_started,
 * participant_joined/left, room_finished). LiveKit has no webhook for a muted track, so muting sends none.
 */
import { randomBytes } from 'node:crypto';
import {
  ParticipantInfo,
  ParticipantInfo_Kind,
  ParticipantInfo_State,
  Room,
  TrackInfo,
  TrackSource,
  TrackType,
  WebhookEvent,
} from '@livekit/protocol';
import { signWebhook } from '../sign.ts';

/** Where webhooks go: the body and `Authorization` header exactly as LiveKit posts them. */
export type WebhookSink = (body: string, authorization: string) => Promise<void>;

/** Posts to a URL, as LiveKit does (`Content-Type: application/webhook+json`, `User-Agent: LiveKit`). */
export function httpSink(url: string): WebhookSink {
  return async (body, authorization) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/webhook+json', 'user-agent': 'LiveKit', authorization },
      body,
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  };
}

export interface RoomSpec {
  name: string;
  sid?: string;
  /** An object is JSON-encoded, as livecalls expects room metadata. */
  metadata?: string | Record<string, unknown>;
}

export interface ParticipantSpec {
  identity: string;
  /** Display name; the identity when absent. */
  name?: string;
  kind: 'agent' | 'sip' | 'standard';
  /** Sids of the audio tracks the participant publishes. */
  tracks?: string[];
  attributes?: Record<string, string>;
}

interface LiveRoom {
  room: Room;
  participants: Map<string, ParticipantInfo>;
}

const KIND = { agent: ParticipantInfo_Kind.AGENT, sip: ParticipantInfo_Kind.SIP, standard: ParticipantInfo_Kind.STANDARD } as const;

const sid = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

export class StandInState {
  readonly rooms = new Map<string, LiveRoom>();
  /** Names of rooms deleted through DeleteRoom, in order. */
  readonly deleted: string[] = [];
  /** Every webhook the stand-in has sent (or would have, without a sink). */
  readonly sent: WebhookEvent[] = [];
  sink: WebhookSink | undefined;
  /** Deliveries in order, one after the other: LiveKit keeps one FIFO queue per room. */
  private delivery: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly apiKey: string,
    private readonly apiSecret: string,
    /** epoch ms; tests pass their controllable clock */
    readonly now: () => number = Date.now,
  ) {}

  addRoom(spec: RoomSpec): Room {
    const at = this.now();
    const metadata = typeof spec.metadata === 'string' ? spec.metadata : JSON.stringify(spec.metadata ?? {});
    const room = new Room({
      sid: spec.sid ?? sid('RM'),
      name: spec.name,
      metadata,
      creationTime: BigInt(Math.floor(at / 1000)),
      creationTimeMs: BigInt(at),
      emptyTimeout: 300,
      departureTimeout: 20,
    });
    this.rooms.set(spec.name, { room, participants: new Map() });
    this.send('room_started', room);
    return room;
  }

  addParticipant(roomName: string, spec: ParticipantSpec): ParticipantInfo {
    const live = this.room(roomName);
    if (!live) throw new Error(`no room ${roomName}`);
    const at = this.now();
    const p = new ParticipantInfo({
      sid: sid('PA'),
      identity: spec.identity,
      name: spec.name ?? spec.identity,
      state: ParticipantInfo_State.ACTIVE,
      kind: KIND[spec.kind],
      joinedAt: BigInt(Math.floor(at / 1000)),
      joinedAtMs: BigInt(at),
      attributes: spec.attributes ?? {},
      tracks: (spec.tracks ?? []).map(
        (t) => new TrackInfo({ sid: t, type: TrackType.AUDIO, source: TrackSource.MICROPHONE, muted: false }),
      ),
    });
    live.participants.set(spec.identity, p);
    this.send('participant_joined', live.room, p);
    return p;
  }

  room(name: string): LiveRoom | undefined {
    return this.rooms.get(name);
  }

  participant(roomName: string, identity: string): ParticipantInfo | undefined {
    return this.rooms.get(roomName)?.participants.get(identity);
  }

  /** Everyone leaves, then the room finishes (LiveKit's order). False when there was no such room. */
  deleteRoom(name: string): boolean {
    const live = this.rooms.get(name);
    if (!live) return false;
    for (const identity of [...live.participants.keys()]) this.removeParticipant(name, identity);
    this.rooms.delete(name);
    this.deleted.push(name);
    this.send('room_finished', live.room);
    return true;
  }

  removeParticipant(roomName: string, identity: string): void {
    const live = this.rooms.get(roomName);
    const p = live?.participants.get(identity);
    if (!live || !p) return;
    live.participants.delete(identity);
    this.send('participant_left', live.room, new ParticipantInfo({ ...p, state: ParticipantInfo_State.DISCONNECTED }));
  }

  setMuted(roomName: string, identity: string, trackSid: string, muted: boolean): TrackInfo | undefined {
    const track = this.participant(roomName, identity)?.tracks.find((t) => t.sid === trackSid);
    if (track) track.muted = muted;
    return track;
  }

  private send(event: string, room: Room, participant?: ParticipantInfo): void {
    const webhook = new WebhookEvent({ event, id: sid('EV'), createdAt: BigInt(Math.floor(this.now() / 1000)), room, participant });
    this.sent.push(webhook);
    const sink = this.sink;
    if (!sink) return;
    // LiveKit delivers after answering the API call; tests wait with `webhooksDelivered()`.
    this.delivery = this.delivery
      .then(async () => {
        const { body, authorization } = await signWebhook(webhook, this.apiKey, this.apiSecret);
        await sink(body, authorization);
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      });
  }

  /** Waits until every webhook sent so far has been delivered; rejects if one was refused. */
  async webhooksDelivered(): Promise<void> {
    await this.delivery;
    if (this.failure) throw this.failure;
  }
}
