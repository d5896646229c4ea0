// A loopback TCP proxy for client tests: `stall()` keeps connections open but stops forwarding
// (a hung server or network), `cut()` drops every connection, `block` refuses new ones.
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';

export class StallProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  blocked = false;
  stalled = false;
  connections = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<StallProxy> {
    let proxy!: StallProxy;
    const server = createServer((client) => {
      if (proxy.blocked) return void client.destroy();
      proxy.connections++;
      const upstream = tcpConnect(targetPort, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      proxy.pairs.add(pair);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        proxy.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      // Forward by hand so a stall can swallow bytes without closing anything.
      client.on('data', (b: Buffer) => {
        if (!proxy.stalled) upstream.write(b);
      });
      upstream.on('data', (b: Buffer) => {
        if (!proxy.stalled) client.write(b);
      });
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const address = server.address();
    proxy = new StallProxy(server, typeof address === 'object' && address !== null ? address.port : 0);
    return proxy;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Drop all bytes both ways from now on (connections stay open). A stalled connection never
   * recovers (bytes were lost), so unstall() also cuts it. */
  stall(): void {
    this.stalled = true;
  }
  unstall(): void {
    this.stalled = false;
    this.cut();
  }

  cut(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.blocked = true;
    this.cut();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}
