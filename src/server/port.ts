// uWebSockets.js listens with SO_REUSEPORT, so a second server on a busy port "succeeds" and
// silently shares it. Before the workers listen we bind the port once ourselves without
// SO_REUSEPORT: a busy port fails here with EADDRINUSE. Port 0 picks a free port for all workers.
import { createServer } from 'node:net';

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

export function probePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new PortInUseError(`port ${port} on ${host} is already in use`));
      else reject(err);
    });
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const chosen = typeof address === 'object' && address !== null ? address.port : port;
      server.close(() => resolve(chosen));
    });
  });
}
