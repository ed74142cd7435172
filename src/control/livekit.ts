/**
 * Acting on calls through LiveKit's server API (livekit-server-sdk). Errors are classified where they
 * enter: LiveKit unreachable -> `livekit_unavailable` (503, retry later); LiveKit answering an error ->
 * `livekit_error` (502, with LiveKit's code); a room or participant LiveKit no longer knows is an outcome,
 * not an error, wherever the caller can act on it.
 */
import { RoomServiceClient, ServerError, SipClient, SipCallError, type ParticipantInfo, type Room } from 'livekit-server-sdk';
import { AppError } from '../errors.ts';
import { createListenToken, type ListenToken } from './tokens.ts';

export type { ListenToken } from './tokens.ts';

/** How a transfer ended as far as LiveKit said: accepted, or refused with LiveKit's reason. */
export type TransferAnswer = { outcome: 'accepted' } | { outcome: 'failed'; reason: string; error: AppError };

export interface CallControl {
  /** Deletes the LiveKit room (hangs up everyone). 'not_found' when LiveKit no longer knows it. */
  deleteRoom(roomName: string): Promise<'deleted' | 'not_found'>;
  /** Every room LiveKit has open (across all tenants of the LiveKit project). */
  listRooms(): Promise<Room[]>;
  /** The open room of that name as LiveKit lists it (ListRooms by name); undefined when there is none. */
  getRoom(roomName: string): Promise<Room | undefined>;
  listParticipants(roomName: string): Promise<ParticipantInfo[]>;
  /** The participant with its published tracks; undefined when LiveKit knows no such room or participant. */
  getParticipant(roomName: string, identity: string): Promise<ParticipantInfo | undefined>;
  /** Mutes (or unmutes) one published track; resolves to the track's sid. */
  setTrackMuted(roomName: string, identity: string, trackSid: string, muted: boolean): Promise<string>;
  /**
   * Transfers a SIP participant (a SIP REFER). LiveKit refusing is an answer (recorded on the call), so it
   * resolves; only LiveKit being unreachable rejects (`livekit_unavailable`), since then nothing is known.
   */
  transferSipParticipant(roomName: string, identity: string, to: string): Promise<TransferAnswer>;
  /** A subscribe-only token for a hidden listener; no request to LiveKit is made. */
  listenToken(roomName: string, identity: string, ttlMs: number): Promise<ListenToken>;
}

/** Errors of a request that never got an answer: refused, reset, unresolvable, timed out. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

function isConnectionError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    // The SDK's request timeout aborts the fetch; fetch itself fails with a TypeError whose cause says why.
    if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
  }
  return false;
}

/**
 * LiveKit answering an error: 502 with its code. LiveKit unreachable: 503, try again. Anything else is a bug
 * here, not an outage there: it is passed on as it is (a 500 with the request id), so nobody retries a
 * deterministic failure forever.
 */
export function classifyLiveKitError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ServerError) {
    return new AppError('livekit_error', `LiveKit refused the request: ${err.code ?? err.status}`, {
      cause: err,
      extra: { livekitCode: err.code ?? String(err.status) },
    });
  }
  if (isConnectionError(err)) {
    return new AppError('livekit_unavailable', 'LiveKit server is unreachable; nothing was changed, try again', { cause: err });
  }
  throw err;
}

function isNotFound(err: unknown): boolean {
  return err instanceof ServerError && (err.code === 'not_found' || err.status === 404);
}

/** LiveKit's own words for a refused transfer: the SIP status when there is one, else its error code. */
function transferReason(err: ServerError): string {
  if (err instanceof SipCallError && err.sipStatusCode !== undefined) {
    return `${err.sipStatusCode}${err.sipStatus ? ` ${err.sipStatus}` : ''}`;
  }
  return `${err.code ?? err.status}: ${err.message}`;
}

export function createLiveKitControl(url: string, apiKey: string, apiSecret: string, timeoutSec = 5): CallControl {
  const rooms = new RoomServiceClient(url, apiKey, apiSecret, { requestTimeout: timeoutSec });
  const sip = new SipClient(url, apiKey, apiSecret, { requestTimeout: timeoutSec });

  async function call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw classifyLiveKitError(err);
    }
  }

  return {
    async deleteRoom(roomName) {
      try {
        await rooms.deleteRoom(roomName);
        return 'deleted';
      } catch (err) {
        if (isNotFound(err)) return 'not_found';
        throw classifyLiveKitError(err);
      }
    },
    listRooms: () => call(() => rooms.listRooms()),
    async getRoom(roomName) {
      const listed = await call(() => rooms.listRooms([roomName]));
      return listed.find((r) => r.name === roomName);
    },
    async listParticipants(roomName) {
      try {
        return await rooms.listParticipants(roomName);
      } catch (err) {
        if (isNotFound(err)) return [];
        throw classifyLiveKitError(err);
      }
    },
    async getParticipant(roomName, identity) {
      try {
        return await rooms.getParticipant(roomName, identity);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw classifyLiveKitError(err);
      }
    },
    async setTrackMuted(roomName, identity, trackSid, muted) {
      const track = await call(() => rooms.mutePublishedTrack(roomName, identity, trackSid, muted));
      return track?.sid || trackSid;
    },
    async transferSipParticipant(roomName, identity, to) {
      try {
        // A REFER rings the target; the request lasts until it answers (ringing timeout plus a margin).
        await sip.transferSipParticipant(roomName, identity, to);
        return { outcome: 'accepted' };
      } catch (err) {
        const classified = classifyLiveKitError(err);
        if (!(err instanceof ServerError)) throw classified;
        return { outcome: 'failed', reason: transferReason(err), error: classified };
      }
    },
    listenToken: (roomName, identity, ttlMs) => createListenToken({ url, apiKey, apiSecret }, roomName, identity, ttlMs),
  };
}
