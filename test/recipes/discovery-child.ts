// A separate process that registers one service instance and then stays up until it is killed:
// `node discovery-child.js CONNECT BASE NAME ID`. Prints one JSON line once registered.
import { connect, ServiceRegistry } from '../../src/index.js';

const [connectString, basePath, name, id] = process.argv.slice(2);
if (connectString === undefined || basePath === undefined || name === undefined || id === undefined) {
  process.stderr.write('usage: discovery-child CONNECT BASE NAME ID\n');
  process.exit(2);
}
const zk = await connect(connectString, { sessionTimeoutMs: 1_000 });
const registry = new ServiceRegistry(zk, { basePath });
await registry.register({ name, id, address: '127.0.0.1', port: process.pid % 65_536 });
process.stdout.write(JSON.stringify({ registered: id, sessionTimeoutMs: zk.sessionTimeoutMs, pid: process.pid }) + '\n');
// The open connection keeps the process alive until the test's SIGKILL.
