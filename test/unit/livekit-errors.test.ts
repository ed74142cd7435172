/** Where LiveKit errors enter: LiveKit refusing is a 502, LiveKit unreachable a 503, a bug here stays a bug. */
import { ServerError } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { classifyLiveKitError, createLiveKitControl } from '../../src/control/livekit.ts';
import { freePort } from '../helpers/server-process.ts';

describe('classifyLiveKitError', () => {
  it('an answer from LiveKit is livekit_error with its code', () => {
    const err = classifyLiveKitError(new ServerError('not_found', 'room not found', 404, 'not_found'));
    expect(err).toMatchObject({ code: 'livekit_error', extra: { livekitCode: 'not_found' } });
  });

  it('no answer (refused, timed out) is livekit_unavailable', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(classifyLiveKitError(refused).code).toBe('livekit_unavailable');
    expect(classifyLiveKitError(new DOMException('The operation was aborted', 'AbortError')).code).toBe('livekit_unavailable');
  });

  it('anything else is passed on as it is (a 500), never reported as an outage', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'sid')");
    expect(() => classifyLiveKitError(bug)).toThrow(bug);
  });

  it('a LiveKit URL nothing listens on is livekit_unavailable through the real client', async () => {
    const control = createLiveKitControl(`http://127.0.0.1:${await freePort()}`, 'key', 'secret-0123456789abcdefghijklmnop', 2);
    await expect(control.listRooms()).rejects.toMatchObject({ code: 'livekit_unavailable' });
  });
});
