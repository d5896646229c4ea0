// Unit tests of the main thread's and workers' small pure parts.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, negotiateTimeoutMs, parseServerArgs } from '../../src/common/config.js';
import { SessionTracker } from '../../src/server/sessions/tracker.js';
import { WatchRegistry, type Delivery } from '../../src/server/workers/watches.js';
import { tempDir } from '../helpers/server.js';

describe('SessionTracker', () => {
  test('a session expires only after its timeout without a touch', () => {
    const t = new SessionTracker(0);
    t.add(1n, 3);
    t.add(2n, 3);
    assert.deepEqual(t.advance(3), []);
    t.touch(2n);
    assert.deepEqual(t.advance(4), [1n]);
    assert.deepEqual(t.advance(5), [], 'reported once');
    assert.deepEqual(t.advance(7), [2n]);
    assert.equal(t.touch(2n), false, 'an expiring session cannot be revived');
    t.remove(1n);
    t.remove(2n);
    assert.equal(t.size, 0);
  });
});

describe('WatchRegistry', () => {
  const s = (n: number): { n: number; watchCount: number } => ({ n, watchCount: 0 });

  test('one-shot data and child watches fire once; deleted dedupes per session', () => {
    const r = new WatchRegistry<ReturnType<typeof s>>();
    const a = s(1);
    r.add('data', '/x', a);
    r.add('child', '/x', a);
    const out: Delivery<ReturnType<typeof s>>[] = [];
    r.trigger('deleted', '/x', out);
    assert.equal(out.length, 1);
    assert.equal(a.watchCount, 0);
    out.length = 0;
    r.trigger('deleted', '/x', out);
    assert.equal(out.length, 0);
  });

  test('recursive watches see descendants but not childrenChanged; persistent see childrenChanged', () => {
    const r = new WatchRegistry<ReturnType<typeof s>>();
    const a = s(1);
    const b = s(2);
    r.add('recursive', '/', a);
    r.add('persistent', '/p', b);
    const out: Delivery<ReturnType<typeof s>>[] = [];
    r.trigger('created', '/p/q/r', out);
    assert.deepEqual(out.map((d) => [d.session.n, d.type, d.path]), [[1, 'created', '/p/q/r']]);
    out.length = 0;
    r.trigger('childrenChanged', '/p', out);
    assert.deepEqual(out.map((d) => [d.session.n, d.type]), [[2, 'childrenChanged']]);
    out.length = 0;
    r.trigger('dataChanged', '/p', out);
    assert.equal(out.length, 2);
    assert.equal(r.count(), 2, 'persistent registrations stay');
  });
});

describe('config', () => {
  test('flags and zoo.cfg keys; unknown keys reported; errors are ConfigError', () => {
    const dir = tempDir();
    const cfg = join(dir, 'zoo.cfg');
    writeFileSync(cfg, '# comment\ntickTime=100\ndataDir=d\nclientPort=2999\nmaxClientCnxns=7\nfoo.bar=1\nautopurge.snapRetainCount=5\nautopurge.purgeInterval=2\n');
    const c = parseServerArgs(['--config', cfg, '--workers', '3']);
    assert.equal(c.tickMs, 100);
    assert.equal(c.port, 2999);
    assert.equal(c.dataDir, join(dir, 'd'));
    assert.equal(c.dataLogDir, join(dir, 'd'));
    assert.equal(c.connectionsPerAddressMax, 7);
    assert.equal(c.workers, 3);
    assert.equal(c.snapRetainCount, 5);
    assert.equal(c.purgeIntervalHours, 2);
    assert.deepEqual(c.unknownKeys, ['foo.bar']);
    assert.equal(c.sessionTimeoutMsMin, 200);
    assert.equal(c.sessionTimeoutMsMax, 2_000);
    assert.equal(negotiateTimeoutMs(c, 1), 200);
    assert.equal(negotiateTimeoutMs(c, 1_000), 1_000);
    assert.equal(negotiateTimeoutMs(c, 99_999), 2_000);
    assert.throws(() => parseServerArgs(['--port', 'abc']), ConfigError);
    assert.throws(() => parseServerArgs(['--nope', '1']), ConfigError);
    assert.throws(() => parseServerArgs(['--data-dir', dir, '--servers', '1=a:1:2,2=b:1:2']), /myid file is missing/); // ensembles: see test/common
  });
});
