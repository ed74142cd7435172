/** A TCP proxy that can be cut and restored, to take a real server "away" without stopping it. */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Proxy {
  port: number;
  cut(): Promise<void>;
  /** A partition: connections stay open (no reset), nothing crosses in either direction until `heal`, then all of it does. */
  blackhole(): void;
  heal(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let partitioned = false;
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
        // A partition holds bytes back (TCP retransmits them once the path heals); it never loses them.
        if (partitioned) for (const s of [client, upstream]) s.pause();
      });
      server.listen(port, '127.0.0.1', () => {
        const addr = server?.address();
        port = typeof addr === 'object' && addr ? addr.port : port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (server) server.close(() => resolve());
      else resolve();
      server = undefined;
    });
  await listen();
  return {
    get port() {
      return port;
    },
    cut: stop,
    restore: listen,
    blackhole() {
      partitioned = true;
      for (const s of sockets) s.pause();
    },
    heal() {
      partitioned = false;
      for (const s of sockets) s.resume();
    },
    close: stop,
  };
}
