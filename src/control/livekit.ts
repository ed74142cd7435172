/**
 * Acting on calls through LiveKit's server API (livekit-server-sdk). Errors are classified where they
 * enter: LiveKit unreachable -> `livekit_unavailable` (503, retry later); LiveKit answering an error ->
 * `livekit_error` (502, with LiveKit's code); a room LiveKit no longer knows is an outcome, not an error.
 */
import { RoomServiceClient, ServerError } from 'livekit-server-sdk';
import { AppError } from '../errors.ts';

export interface CallControl {
  /** Deletes the LiveKit room (hangs up everyone). 'not_found' when LiveKit no longer knows it. */
  deleteRoom(roomName: string): Promise<'deleted' | 'not_found'>;
}

export function classifyLiveKitError(err: unknown): AppError {
  if (err instanceof ServerError) {
    return new AppError('livekit_error', `LiveKit refused the request: ${err.code ?? err.status}`, {
      cause: err,
      extra: { livekitCode: err.code ?? String(err.status) },
    });
  }
  return new AppError('livekit_unavailable', 'LiveKit server is unreachable; nothing was changed, try again', { cause: err });
}

function isNotFound(err: unknown): boolean {
  return err instanceof ServerError && (err.code === 'not_found' || err.status === 404);
}

export function createLiveKitControl(url: string, apiKey: string, apiSecret: string, timeoutSec = 5): CallControl {
  const rooms = new RoomServiceClient(url, apiKey, apiSecret, { requestTimeout: timeoutSec });
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
  };
}
