/**
 * A small stand-in for LiveKit's server API (no LiveKit server can run here). It speaks the Twirp JSON
 * routes livekit-server-sdk calls and checks every token with the SDK's own TokenVerifier and the grant
 * LiveKit requires for the method. It covers what livecalls calls; it is not LiveKit.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenVerifier, type ClaimGrants } from 'livekit-server-sdk';

export interface StandIn {
  url: string;
  rooms: Set<string>;
  deleted: string[];
  /** When set, every call answers this Twirp error. */
  failWith: { status: number; code: string; msg: string } | undefined;
  close(): Promise<void>;
}

const REQUIRED_GRANT: Record<string, (g: ClaimGrants, body: Record<string, unknown>) => boolean> = {
  'livekit.RoomService/DeleteRoom': (g) => g.video?.roomCreate === true,
  'livekit.RoomService/ListRooms': (g) => g.video?.roomList === true,
};

export async function startLiveKitStandIn(apiKey: string, apiSecret: string): Promise<StandIn> {
  const verifier = new TokenVerifier(apiKey, apiSecret);
  const standIn: StandIn = { url: '', rooms: new Set(), deleted: [], failWith: undefined, close: async () => {} };

  const twirpError = (res: ServerResponse, status: number, code: string, msg: string) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, msg }));
  };

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      void (async () => {
        const method = req.url?.replace(/^\/twirp\//, '') ?? '';
        const auth = req.headers.authorization ?? '';
        let grants: ClaimGrants;
        try {
          grants = await verifier.verify(auth.replace(/^Bearer /, ''));
        } catch {
          return twirpError(res, 401, 'unauthenticated', 'invalid token');
        }
        const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
        const allowed = REQUIRED_GRANT[method];
        if (!allowed) return twirpError(res, 404, 'bad_route', `no handler for ${method}`);
        if (!allowed(grants, body)) return twirpError(res, 403, 'permission_denied', 'permissions denied');
        if (standIn.failWith) return twirpError(res, standIn.failWith.status, standIn.failWith.code, standIn.failWith.msg);
        if (method === 'livekit.RoomService/DeleteRoom') {
          const name = String(body.room ?? '');
          if (!standIn.rooms.delete(name)) return twirpError(res, 404, 'not_found', 'requested room does not exist');
          standIn.deleted.push(name);
          return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ rooms: [...standIn.rooms].map((name) => ({ name })) }));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return standIn;
}
