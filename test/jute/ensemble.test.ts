// The jute listener on every server of a 3-server ensemble (the worker code path is shared): jute
// clients on different servers see one tree, one another's ephemerals and watches, and a native
// client's writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../src/index.js';
import { Ensemble, type ServerProcess } from '../cluster/harness.js';
import { eventually } from '../helpers/server.js';
import { nzk, nzkConnect, type NzkEvent } from './nzk.js';

async function zkPortOf(s: ServerProcess): Promise<number> {
  const line = await eventually(() => s.lines.find((l) => l.includes('"msg":"serving"')), 30_000, `server ${s.id} serving`);
  const port = (JSON.parse(line.slice(line.indexOf('{'))) as { zkPort: unknown }).zkPort;
  assert.equal(typeof port, 'number', `zkPort in ${line}`);
  return port as number;
}

test('jute clients on three servers of an ensemble share one tree, ephemerals and watches', async () => {
  const e = await Ensemble.start({ size: 3, logLevel: 'info', extraArgs: ['--zk-port', '0'] });
  try {
    await e.leader();
    const ports = await Promise.all(e.servers.map(zkPortOf));
    const [a, b, c] = await Promise.all(ports.map((p) => nzkConnect(`127.0.0.1:${p}`)));
    const native = await connect(e.connectString(), { sessionTimeoutMs: 10_000 });
    try {
      await a!.create('/ens', 'v0');
      await a!.create('/ens/eph', null, nzk.CreateMode.EPHEMERAL);
      const seen: string[] = [];
      const w = (ev: NzkEvent): void => void seen.push(`${ev.name} ${ev.path}`);
      // A reader on another server may lag behind the write it did not make: wait until it shows it.
      await eventually(async () => (await c!.exists('/ens/eph')) !== null, 10_000, 'the ephemeral on server 3');
      await c!.getData('/ens', w);
      await c!.getChildren('/ens', w);
      await b!.setData('/ens', 'v1');
      await native.create('/ens/n', 'x');
      await eventually(() => seen.length >= 2, 15_000, 'both watches fire on server 3');
      assert.deepEqual(seen, ['NODE_DATA_CHANGED /ens', 'NODE_CHILDREN_CHANGED /ens']);
      assert.equal((await c!.getData('/ens')).data.toString(), 'v1');
      const owner = (await b!.exists('/ens/eph'))!.ephemeralOwner.toString('hex');
      assert.equal(owner, a!.raw.getSessionId().toString('hex'));
      await a!.close();
      await eventually(async () => (await b!.exists('/ens/eph')) === null, 15_000, 'the ephemeral goes with its session');
    } finally {
      await native.close();
      await Promise.all([b, c].map((x) => x!.close()));
    }
  } finally {
    await e.stopAll();
  }
});
