// Child process for the close() test: starts 3 transports, exchanges messages, closes them all,
// then returns without process.exit — the process exits only if close() left no handle open.
import { startCluster, until } from './transport-helpers.js';

const all = await startCluster(3);
for (const a of all) for (const b of all) if (a !== b) a.t.send(b.t.myId, { from: a.t.myId, zxid: 1n });
await until('all delivered', () => all.every((r) => r.messages.length === 2));
await Promise.all(all.map((r) => r.t.close()));
process.stdout.write(`exchanged ${all.reduce((n, r) => n + r.messages.length, 0)} messages, closed\n`);
