// The failover bench's steady writer on zookooper, forked by bench/ensemble/failover.ts: one
// session on a connect string listing every server, one setData in flight at a time. Each
// success is reported over IPC with its send and completion times (process.hrtime, CLOCK_MONOTONIC,
// comparable with the orchestrator's kill time); a failure is reported and the next write follows.
// Ends on a 'close' message, when the parent goes away, or at the deadline given in argv[3] (ms).
import { loadConnect } from '../lib/client.js';

const connectString = process.argv[2] ?? '';
const deadlineMs = Number(process.argv[3] ?? 600_000);
const path = '/bench-failover';
let stop = false;
const send = (m: unknown): void => {
  process.send?.(m);
};
process.on('message', (m) => {
  if ((m as { type?: string }).type === 'close') stop = true;
});
process.on('disconnect', () => (stop = true));

async function main(): Promise<void> {
  const connect = await loadConnect();
  const zk = await connect(connectString, { sessionTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
  try {
    await zk.create(path, 'x');
  } catch {
    // left by an earlier round
  }
  send({ type: 'ready' });
  const end = performance.now() + deadlineMs;
  const value = Buffer.from('w');
  while (!stop && performance.now() < end) {
    const s = Number(process.hrtime.bigint());
    try {
      await zk.setData(path, value);
      send({ type: 'w', s, e: Number(process.hrtime.bigint()) });
    } catch (err) {
      send({ type: 'we', s, e: Number(process.hrtime.bigint()), code: (err as { code?: string }).code ?? String(err) });
      await new Promise((r) => setTimeout(r, 1)); // a connection loss fails at once: do not spin
    }
  }
  await Promise.race([zk.close(), new Promise((r) => setTimeout(r, 2_000))]);
}

main()
  .catch((err: unknown) => send({ type: 'error', message: String(err) }))
  .finally(() => {
    process.disconnect?.();
    setTimeout(() => process.exit(0), 100).unref();
  });
