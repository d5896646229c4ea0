// The jute port's configuration: --zk-port, zoo.cfg zkClientPort, the derived default (client
// port + 1000), off; a busy default is logged and the server serves without it, a busy explicit
// port stops the start.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseServerArgs } from '../../src/common/config.js';
import { startServer, tempDir } from '../helpers/server.js';

test('--zk-port, zkClientPort, the default and off', () => {
  const dir = tempDir();
  const base = ['--data-dir', dir];
  assert.equal(parseServerArgs([...base]).zkPort, 3181);
  assert.equal(parseServerArgs([...base, '--port', '4000']).zkPort, 5000);
  assert.equal(parseServerArgs([...base, '--port', '0']).zkPort, 0);
  assert.equal(parseServerArgs([...base, '--zk-port', '2999']).zkPort, 2999);
  assert.equal(parseServerArgs([...base, '--zk-port', 'off']).zkPort, null);
  const over = parseServerArgs([...base, '--port', '65000']);
  assert.equal(over.zkPort, null);
  assert.ok(over.warnings.some((w) => w.includes('no ZooKeeper-protocol port')));
  assert.throws(() => parseServerArgs([...base, '--port', '2500', '--zk-port', '2500']), /is the client port/);
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(cfg, `dataDir=${dir}\nclientPort=2181\nzkClientPort=2182\n4lw.commands.whitelist=*\n`);
  const c = parseServerArgs(['--config', cfg]);
  assert.deepEqual([c.port, c.zkPort, c.fourLetterWords], [2181, 2182, ['*']]);
  assert.equal(parseServerArgs(['--config', cfg, '--zk-port', '0']).zkPort, 0, 'the flag wins over the file');
  rmSync(dir, { recursive: true, force: true });
});

function listen(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(s));
  });
}

/** A held port J whose J - 1000 is free (the client port whose default jute port J is busy). */
async function busyDefault(): Promise<{ clientPort: number; held: Server }> {
  for (let i = 0; i < 50; i++) {
    const held = (await listen(0))!;
    const j = (held.address() as { port: number }).port;
    const probe = j > 2000 ? await listen(j - 1000) : null;
    if (probe) {
      await new Promise<void>((r) => probe.close(() => r()));
      return { clientPort: j - 1000, held };
    }
    held.close();
  }
  throw new Error('no port pair found');
}

test('a busy default jute port is logged and the server serves without it; a busy explicit one is fatal', async () => {
  const { clientPort, held } = await busyDefault();
  const jutePort = clientPort + 1000;
  try {
    const s = await startServer({ port: clientPort, workers: 1 });
    try {
      const serving = await s.waitForLine(/"msg":"serving"/);
      assert.equal((JSON.parse(serving) as { zkPort: unknown }).zkPort, null);
      await s.waitForLine(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${jutePort} \\(--zk-port\\).*serving without the ZooKeeper-protocol port`));
    } finally {
      await s.stop();
      s.cleanup();
    }
    await assert.rejects(startServer({ port: 0, workers: 1, args: ['--zk-port', String(jutePort)], readyTimeoutMs: 20_000 }), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${jutePort}`));
  } finally {
    held.close();
  }
});
