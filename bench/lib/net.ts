import net from 'node:net';

/** A TCP port that was free on 127.0.0.1 a moment ago (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('no port'));
        return;
      }
      const port = addr.port;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends a line to host:port and returns everything the peer writes until it closes. */
export async function tcpAsk(port: number, line: string, timeoutMs: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let out = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(line));
    sock.on('data', (d: string) => (out += d));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
