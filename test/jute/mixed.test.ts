// One tree, one session table, one watch registry for both listeners: a jute client's change fires
// a native (MessagePack) client's watch and the other way round, in zxid order; each sees the
// other's ephemerals.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect } from '../../src/index.js';
import { eventually } from '../helpers/server.js';
import { startJuteServer, type JuteServer } from './helpers.js';
import { nzk, nzkConnect, type Nzk, type NzkEvent } from './nzk.js';

type Native = Awaited<ReturnType<typeof connect>>;

describe('jute and native clients on one server', () => {
  let s: JuteServer;
  let j: Nzk;
  let n: Native;
  before(async () => {
    s = await startJuteServer({ workers: 2 });
    j = await nzkConnect(s.zkConnect);
    n = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
  });
  after(async () => {
    await j?.close();
    await n?.close();
    await s?.stop();
    s?.cleanup();
  });

  test("a jute client's changes fire a native client's watches, in order", async () => {
    await n.create('/mx', 'a');
    const seen: string[] = [];
    await n.getData('/mx', { watch: (e) => seen.push(`${e.type} ${e.path}`) });
    await n.getChildren('/mx', { watch: (e) => seen.push(`${e.type} ${e.path}`) });
    await n.addWatch('/mx', 'persistent_recursive', (e) => seen.push(`R ${e.type} ${e.path}`));
    await j.setData('/mx', 'b');
    await j.create('/mx/k', 'c');
    await j.remove('/mx/k');
    await eventually(() => seen.length >= 5, 10_000, 'five events');
    // ZooKeeper's order within one create: the node's created event, then its parent's children event.
    assert.deepEqual(seen, ['dataChanged /mx', 'R dataChanged /mx', 'R created /mx/k', 'childrenChanged /mx', 'R deleted /mx/k']);
  });

  test("a native client's changes fire a jute client's watches, in order", async () => {
    await j.create('/jx', 'a');
    const seen: string[] = [];
    const w = (e: NzkEvent): void => void seen.push(`${e.name} ${e.path}`);
    await j.getData('/jx', w);
    await j.exists('/jx/k', w);
    await j.getChildren('/jx', w);
    await n.setData('/jx', 'b');
    await n.create('/jx/k', 'c');
    await eventually(() => seen.length >= 3, 10_000, 'three events');
    assert.deepEqual(seen, ['NODE_DATA_CHANGED /jx', 'NODE_CREATED /jx/k', 'NODE_CHILDREN_CHANGED /jx']);
    assert.equal((await j.getData('/jx')).data.toString(), 'b');
  });

  test("each sees the other's ephemerals, owned by the other's session", async () => {
    await n.create('/eph-native', '', { mode: 'ephemeral' });
    await j.create('/eph-jute', null, nzk.CreateMode.EPHEMERAL);
    const st = await j.exists('/eph-native');
    assert.equal(BigInt('0x' + st!.ephemeralOwner.toString('hex')), n.sessionId);
    const st2 = await n.exists('/eph-jute');
    assert.equal(st2!.ephemeralOwner.toString(16).padStart(16, '0'), j.raw.getSessionId().toString('hex'));
  });
});
