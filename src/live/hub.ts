/**
 * The stream hub: every open SSE or WebSocket client of this instance, by workspace, fed from the live log.
 *
 * Why it is shaped like this:
 *  - A client registers before it reads its starting point (a snapshot or a replay), and whatever arrives
 *    meanwhile waits in its queue; entries it already has are skipped by id. So nothing committed between
 *    "read the list" and "listen" is lost, and nothing is sent twice.
 *  - The hub never waits for a client. Frames are written to the client's socket buffer; a client whose
 *    unsent data passes `bufferBytes` (or whose start-up queue overflows) is sent `overflow` and closed.
 *    Ingestion and the other clients carry on at their own speed.
 *  - Each entry's data is serialised once, when published, whatever the number of clients.
 */
import type { Logger } from 'pino';
import type { Gauge, Counter } from 'prom-client';
import type { FeedEntry, LiveFeed } from '../store/types.ts';

export type CloseReason = 'overflow' | 'shutdown' | 'error' | 'revoked';

/** One connected client's transport (SSE response or WebSocket). */
export interface StreamSink {
  send(event: string, id: string | undefined, data: string): void;
  /** Bytes written but not yet taken by the client's socket. */
  buffered(): number;
  heartbeat(): void;
  close(reason: CloseReason): void;
}

export interface HubOptions {
  feed: LiveFeed;
  /** The list response for a snapshot, serialised. */
  snapshot: (workspaceId: string) => Promise<string>;
  bufferBytes: number;
  heartbeatMs: number;
  /** Whether the API key a client connected with still stands; checked every `revalidateMs`. */
  keyStillValid: (keyId: string) => Promise<boolean>;
  revalidateMs: number;
  log: Logger;
  metrics: { streamClients: Gauge; streamOverflows: Counter };
}

interface Client {
  workspaceId: string;
  /** The API key the client connected with (directly or through a stream token). */
  keyId: string;
  sink: StreamSink;
  /** Id of the newest entry the client has (or its snapshot included). */
  lastId: string | undefined;
  /** Entries that arrived while the starting point was being read; null once live. */
  queue: FeedEntry[] | null;
  /** The shared log reported a gap while this client was still starting: catch up once more after. */
  resync: boolean;
  closed: boolean;
}

/** Entries a client may queue while its snapshot is read: far more than a snapshot read takes. */
const MAX_STARTUP_QUEUE = 10_000;

export class LiveHub {
  private readonly clients = new Map<string, Set<Client>>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private revalidateTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: HubOptions) {}

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.opts.feed.subscribe(
      (entry) => this.dispatch(entry),
      () => this.resyncAll(),
    );
    this.timer = setInterval(() => this.heartbeat(), this.opts.heartbeatMs);
    this.timer.unref();
    this.revalidateTimer = setInterval(() => void this.revalidate(), this.opts.revalidateMs);
    this.revalidateTimer.unref();
  }

  /** Open streams of one workspace on this instance. */
  clientsOf(workspaceId: string): number {
    return this.clients.get(workspaceId)?.size ?? 0;
  }

  get size(): number {
    let n = 0;
    for (const set of this.clients.values()) n += set.size;
    return n;
  }

  /**
   * Adds a client: it gets the entries after `lastEventId` when the log still has them all, a snapshot
   * otherwise, then every new entry (a failure to read the starting point closes the client). Returns the
   * function to call when the client goes away, at any time, even while its starting point is being read.
   */
  connect(workspaceId: string, keyId: string, sink: StreamSink, lastEventId: string | undefined): () => void {
    const client: Client = { workspaceId, keyId, sink, lastId: undefined, queue: [], resync: false, closed: false };
    let set = this.clients.get(workspaceId);
    if (!set) this.clients.set(workspaceId, (set = new Set()));
    set.add(client);
    this.opts.metrics.streamClients.inc();
    this.catchUp(client, lastEventId).catch((err: unknown) => {
      this.opts.log.warn({ err, workspaceId }, 'live stream could not start');
      this.close(client, 'error');
    });
    return () => this.remove(client);
  }

  /** Closes every stream (shutdown). */
  closeAll(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearInterval(this.timer);
    if (this.revalidateTimer) clearInterval(this.revalidateTimer);
    for (const set of this.clients.values()) for (const client of set) this.close(client, 'shutdown');
  }

  private async catchUp(client: Client, fromId: string | undefined): Promise<void> {
    const { feed } = this.opts;
    const replay = fromId === undefined ? undefined : await feed.since(client.workspaceId, fromId);
    if (client.closed) return;
    if (replay) {
      client.lastId = fromId;
      for (const entry of replay) this.deliver(client, entry);
    } else {
      const head = await feed.head(client.workspaceId);
      const body = await this.opts.snapshot(client.workspaceId);
      if (client.closed) return;
      client.sink.send('snapshot', head, body);
      client.lastId = head;
    }
    const queued = client.queue ?? [];
    client.queue = null;
    for (const entry of queued) this.deliver(client, entry);
    if (client.resync && !client.closed) {
      client.resync = false;
      client.queue = [];
      await this.catchUp(client, client.lastId);
    }
  }

  private dispatch(entry: FeedEntry): void {
    const set = this.clients.get(entry.workspaceId);
    if (!set) return;
    for (const client of set) {
      if (client.queue) {
        client.queue.push(entry);
        if (client.queue.length > MAX_STARTUP_QUEUE) this.overflow(client);
      } else {
        this.deliver(client, entry);
      }
    }
  }

  private deliver(client: Client, entry: FeedEntry): void {
    if (client.closed) return;
    if (client.lastId !== undefined && this.opts.feed.compare(entry.id, client.lastId) <= 0) return;
    client.sink.send(entry.event, entry.id, entry.data);
    client.lastId = entry.id;
    if (client.sink.buffered() > this.opts.bufferBytes) this.overflow(client);
  }

  private overflow(client: Client): void {
    if (client.closed) return;
    this.opts.metrics.streamOverflows.inc();
    this.opts.log.warn({ workspaceId: client.workspaceId }, 'live stream client fell too far behind: disconnected');
    client.sink.send(
      'overflow',
      undefined,
      JSON.stringify({ message: 'this client fell too far behind; reconnect to get a fresh snapshot' }),
    );
    this.close(client, 'overflow');
  }

  /** Entries may have been missed (the shared log's connection dropped): every client resumes from its last id. */
  private resyncAll(): void {
    for (const set of this.clients.values()) {
      for (const client of set) {
        if (client.closed) continue;
        if (client.queue) {
          client.resync = true; // still reading its starting point; it catches up again right after
          continue;
        }
        client.queue = [];
        this.catchUp(client, client.lastId).catch((err: unknown) => {
          this.opts.log.warn({ err, workspaceId: client.workspaceId }, 'live stream could not catch up');
          this.close(client, 'error');
        });
      }
    }
  }

  /**
   * A stream outlives the check made when it opened: a key revoked since then closes its clients (one
   * lookup per distinct key). A store that cannot answer keeps the streams: an outage is not a revocation.
   */
  async revalidate(): Promise<void> {
    const keys = new Set<string>();
    for (const set of this.clients.values()) for (const client of set) keys.add(client.keyId);
    for (const keyId of keys) {
      let valid: boolean;
      try {
        valid = await this.opts.keyStillValid(keyId);
      } catch {
        continue;
      }
      if (valid) continue;
      for (const set of [...this.clients.values()]) {
        for (const client of [...set]) {
          if (client.keyId !== keyId || client.closed) continue;
          client.sink.send('revoked', undefined, JSON.stringify({ message: 'the API key of this stream was revoked' }));
          this.close(client, 'revoked');
        }
      }
    }
  }

  private heartbeat(): void {
    for (const set of this.clients.values()) for (const client of set) if (!client.closed) client.sink.heartbeat();
  }

  private close(client: Client, reason: CloseReason): void {
    if (!client.closed) {
      client.closed = true;
      client.sink.close(reason);
    }
    this.remove(client);
  }

  private remove(client: Client): void {
    client.closed = true;
    const set = this.clients.get(client.workspaceId);
    if (set?.delete(client)) {
      this.opts.metrics.streamClients.dec();
      if (set.size === 0) this.clients.delete(client.workspaceId);
    }
  }
}
