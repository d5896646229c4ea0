// A loopback TCP proxy a test can cut: it drops every connection through it and refuses new ones
// while blocked, so a client loses its connection for real while the server keeps running.
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';

export class CuttableProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  blocked = false;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<CuttableProxy> {
    let proxy!: CuttableProxy;
    const server = createServer((client) => {
      if (proxy.blocked) {
        client.destroy();
        return;
      }
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
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const address = server.address();
    proxy = new CuttableProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  /** Drops every live connection and refuses new ones until unblock(). */
  cut(): void {
    this.blocked = true;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  unblock(): void {
    this.blocked = false;
  }

  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}
