// Fault injection on the peer links of a real ensemble on loopback.
//
// Each server sends only on its own outbound connection to each peer, so the link i->j is one
// TCP connection from i to j's peer port. A LinkProxy stands on ONE such directed link: server i
// is configured with the proxy's port as j's peer address, and the proxy forwards to j's real
// peer port. Cutting it is a one-way partition (i cannot reach j; j still reaches i through
// P_ji). PeerMesh builds the proxies for every ordered pair and the `--servers` string of each
// server (its own entry real, every other entry through its proxy).
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';

export const faultProxyDefaults = {
  queuedBytesMax: 8 * 1_048_576, // held back by a delay before the sender is paused
  host: '127.0.0.1',
} as const;

/** One direction of a proxied connection, holding bytes back by the link's delay, in order. */
class Pipe {
  private readonly queue: { dueMs: number; buf: Buffer }[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly delayMs: () => number,
  ) {
    from.on('data', (buf: Buffer) => this.push(buf));
    to.on('drain', () => this.flush());
  }

  private push(buf: Buffer): void {
    const delay = this.delayMs();
    if (delay === 0 && this.queue.length === 0) {
      if (!this.to.write(buf)) this.from.pause();
      return;
    }
    this.queue.push({ dueMs: Date.now() + delay, buf });
    this.queuedBytes += buf.length;
    if (this.queuedBytes > faultProxyDefaults.queuedBytesMax) this.from.pause();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null || this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, Math.max(0, this.queue[0]!.dueMs - Date.now()));
  }

  private flush(): void {
    const now = Date.now();
    let writable = true;
    while (writable && this.queue.length > 0 && this.queue[0]!.dueMs <= now) {
      const head = this.queue.shift()!;
      this.queuedBytes -= head.buf.length;
      writable = this.to.write(head.buf);
    }
    if (writable && this.queuedBytes <= faultProxyDefaults.queuedBytesMax) this.from.resume();
    if (writable) this.schedule();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }
}

export type LinkState = 'open' | 'cut' | 'delayed';

/** A loopback TCP proxy for one directed peer link. */
export class LinkProxy {
  private readonly live = new Set<{ a: Socket; b: Socket; pipes: Pipe[] }>();
  private blocked = false;
  private delayMs = 0;
  /** Connections accepted and forwarded over the proxy's life (for reports). */
  accepted = 0;
  refused = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly targetPort: number,
    readonly label: string,
  ) {}

  static async start(targetPort: number, label = `->${targetPort}`, port = 0): Promise<LinkProxy> {
    let proxy!: LinkProxy;
    const server = createServer({ noDelay: true }, (client) => proxy.accept(client));
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(port, faultProxyDefaults.host, () => res());
    });
    const address = server.address();
    proxy = new LinkProxy(server, typeof address === 'object' && address !== null ? address.port : port, targetPort, label);
    return proxy;
  }

  private accept(client: Socket): void {
    if (this.blocked) {
      this.refused++;
      client.destroy();
      return;
    }
    this.accepted++;
    client.pause();
    const upstream = tcpConnect({ port: this.targetPort, host: faultProxyDefaults.host, noDelay: true });
    const conn = { a: client, b: upstream, pipes: [] as Pipe[] };
    const delay = (): number => this.delayMs;
    conn.pipes.push(new Pipe(client, upstream, delay), new Pipe(upstream, client, delay));
    this.live.add(conn);
    const drop = (): void => this.drop(conn);
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.once('connect', () => client.resume());
  }

  private drop(conn: { a: Socket; b: Socket; pipes: Pipe[] }): void {
    for (const p of conn.pipes) p.stop();
    conn.a.destroy();
    conn.b.destroy();
    this.live.delete(conn);
  }

  /** Destroys the live connections and refuses new ones until heal(). */
  cut(): void {
    this.blocked = true;
    for (const c of [...this.live]) this.drop(c);
  }

  /** Holds every byte back by `ms` before forwarding it (order kept); 0 stops delaying new bytes. */
  delay(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`delay must be >= 0 ms, got ${ms}`);
    this.delayMs = ms;
  }

  /** Accepts connections again and stops delaying. */
  heal(): void {
    this.blocked = false;
    this.delayMs = 0;
  }

  get state(): LinkState {
    return this.blocked ? 'cut' : this.delayMs > 0 ? 'delayed' : 'open';
  }

  get connections(): number {
    return this.live.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}

export interface PeerEndpoint {
  id: number;
  peerPort: number;
  electionPort: number;
  /** A non-voting member (zoo.cfg's `:observer`). */
  observer?: boolean;
}

/** One `--servers` entry: id=host:peerPort:electionPort[:observer]. */
export function serverEntry(e: PeerEndpoint, peerPort = e.peerPort): string {
  return `${e.id}=${faultProxyDefaults.host}:${peerPort}:${e.electionPort}${e.observer === true ? ':observer' : ''}`;
}

/** The proxies of every ordered pair of an ensemble, and the faults built on them. */
export class PeerMesh {
  private constructor(
    readonly endpoints: readonly PeerEndpoint[],
    private readonly links: Map<string, LinkProxy>,
  ) {}

  static async start(endpoints: readonly PeerEndpoint[]): Promise<PeerMesh> {
    const links = new Map<string, LinkProxy>();
    try {
      for (const from of endpoints) {
        for (const to of endpoints) {
          if (from.id !== to.id) links.set(`${from.id}>${to.id}`, await LinkProxy.start(to.peerPort, `${from.id}->${to.id}`));
        }
      }
    } catch (err) {
      for (const l of links.values()) await l.close();
      throw err;
    }
    return new PeerMesh(endpoints, links);
  }

  ids(): number[] {
    return this.endpoints.map((e) => e.id);
  }

  /** The proxy carrying what server `from` sends to server `to`. */
  link(from: number, to: number): LinkProxy {
    const l = this.links.get(`${from}>${to}`);
    if (l === undefined) throw new Error(`no link ${from}->${to}`);
    return l;
  }

  /** Server `id`'s `--servers` value: its own entry real, every other peer port a proxy's. */
  serversArg(id: number): string {
    return this.endpoints.map((e) => serverEntry(e, e.id === id ? e.peerPort : this.link(id, e.id).port)).join(',');
  }

  /** Cuts every link between servers of different groups, both ways. Servers in no group keep
   * their links. */
  partition(...groups: number[][]): void {
    for (let g = 0; g < groups.length; g++) {
      for (let h = 0; h < groups.length; h++) {
        if (g === h) continue;
        for (const i of groups[g]!) for (const j of groups[h]!) this.link(i, j).cut();
      }
    }
  }

  /** Server `id` can neither reach nor be reached by anyone. */
  isolate(id: number): void {
    this.partition([id], this.ids().filter((x) => x !== id));
  }

  /** `from`'s messages to `to` are lost; `to` still reaches `from`. */
  oneWayCut(from: number, to: number): void {
    this.link(from, to).cut();
  }

  delay(from: number, to: number, ms: number): void {
    this.link(from, to).delay(ms);
  }

  /** Every link open and undelayed. */
  heal(): void {
    for (const l of this.links.values()) l.heal();
  }

  /** Links that are not open, as "1->2:cut" (for logs). */
  faults(): string[] {
    return [...this.links.values()].filter((l) => l.state !== 'open').map((l) => `${l.label}:${l.state}`);
  }

  async close(): Promise<void> {
    for (const l of this.links.values()) await l.close();
  }
}
