// A real server process with its jute port, for the tests in this folder.
import { startServer, type ServerOptions, type TestServer } from '../helpers/server.js';

export interface JuteServer extends TestServer {
  zkPort: number;
  zkConnect: string;
}

export async function startJuteServer(opts: ServerOptions = {}): Promise<JuteServer> {
  const s = await startServer({ ...opts, args: ['--zk-port', '0', ...(opts.args ?? [])] });
  const serving = await s.waitForLine(/"msg":"serving"/);
  const zkPort = (JSON.parse(serving) as { zkPort: number | null }).zkPort;
  if (typeof zkPort !== 'number') throw new Error(`no zkPort in the serving line: ${serving}`);
  return Object.assign(s, { zkPort, zkConnect: `127.0.0.1:${zkPort}` });
}
