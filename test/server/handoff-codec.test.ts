// The hand-off's frame bodies (src/server/workers/handoff-codec.ts): every request op and every
// result shape a worker can see comes back equal, through the compact layout or its MessagePack
// escape, with bigints staying bigints.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { createModes, OPEN_ACL_UNSAFE, type Stat } from '../../src/common/types.js';
import type { WriteOp, WriteRequest, WriteResult } from '../../src/server/pipeline/api.js';
import { decodeFrame, encodeCommit, encodeControl, encodeWrites } from '../../src/server/workers/handoff-codec.js';
import type { CommitMessage } from '../../src/server/workers/messages.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
/** Decoded binaries are Buffers (views): compare as plain bytes. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}
/** Decodes from a copy in a fresh buffer, as the ring's take() gives it. */
const roundTrip = (body: Uint8Array): ReturnType<typeof decodeFrame> => decodeFrame(Buffer.from(body));

const stat: Stat = { czxid: 0x1_0000_0005n, mzxid: 0xffff_ffff_ffff_fff0n, pzxid: 7n, ctime: 1_700_000_000_123, mtime: 1_700_000_000_456, version: 2_147_483_647, cversion: -1, aversion: 3, ephemeralOwner: 0x42_0000_0000_0001n, dataLength: 1024, numChildren: 0 };

const ops: WriteOp[] = [
  { type: 'setData', path: '/a/ü/€', data: enc('x'.repeat(1024)), version: -1 },
  { type: 'create', path: '/b', data: new Uint8Array(0), mode: 'ephemeral_sequential', acl: [...OPEN_ACL_UNSAFE, { perms: 1, scheme: 'digest', id: 'u:abc=' }], ttlMs: 0 },
  { type: 'create', path: '/t', data: enc('t'), mode: 'persistent_with_ttl', acl: OPEN_ACL_UNSAFE, ttlMs: 2 ** 40 - 1 },
  { type: 'delete', path: '/c', version: 5 },
  { type: 'setACL', path: '/d', acl: OPEN_ACL_UNSAFE, version: 0 },
  { type: 'multi', ops: [{ type: 'check', path: '/a', version: 1 }, { type: 'setData', path: '/a', data: enc('m'), version: -1 }, { type: 'delete', path: '/z', version: -1 }] },
  { type: 'sync', path: '/' },
  { type: 'getEphemerals', prefix: '/e' },
  { type: 'closeSession' },
];

const results: WriteResult[] = [
  { ok: true, value: { type: 'setData', stat } },
  { ok: true, value: { type: 'setACL', stat } },
  { ok: true, value: { type: 'create', path: '/b0000000001', stat } },
  { ok: true, value: { type: 'delete' } },
  { ok: true, value: { type: 'sync' } },
  { ok: true, value: { type: 'closeSession' } },
  { ok: true, value: { type: 'multi', results: [{ op: 'check' }, { op: 'setData', stat }, { op: 'delete' }] } },
  { ok: true, value: { type: 'getEphemerals', paths: ['/e/1', '/e/2'] } },
  { ok: false, code: 'BADVERSION' },
  { ok: false, code: 'NONODE', message: 'no node', path: '/x' },
  { ok: false, code: 'NOAUTH', path: '/y' },
  { ok: false, code: 'NONODE', results: [{ op: 'error', code: 'OK' }, { op: 'error', code: 'NONODE' }] },
];

describe('hand-off frame bodies', () => {
  test('every write op a worker forwards comes back equal', () => {
    const requests: WriteRequest[] = ops.map((op, i) => ({ sessionId: 0xff00_0000_0000_0000n + BigInt(i), tag: i * 256 + 1, authIds: i % 2 ? [] : [{ scheme: 'ip', id: '127.0.0.1' }, { scheme: 'digest', id: 'ü:x' }], op }));
    const back = roundTrip(encodeWrites(requests));
    assert.equal(back.kind, 'writes');
    assert.deepEqual(plain(back), plain({ kind: 'writes', requests }));
    for (const r of back.kind === 'writes' ? back.requests : []) assert.equal(typeof r.sessionId, 'bigint');
  });

  test('a commit with events, every result shape and ended sessions comes back equal', () => {
    const msg: CommitMessage = {
      kind: 'commit',
      zxid: 0x3_0000_0010n,
      events: [{ type: 'dataChanged', path: '/a', zxid: 0x3_0000_000fn }, { type: 'childrenChanged', path: '/', zxid: 0x3_0000_0010n }, { type: 'created', path: '/n', zxid: 1n }, { type: 'deleted', path: '/m', zxid: 2n }],
      replies: results.map((result, i) => ({ tag: i * 256 + 3, sessionId: BigInt(i) << 56n, zxid: i % 3 === 0 ? 0n : BigInt(i), result, events: [], eventsBefore: i % 5 })),
      endedSessions: [{ sessionId: 9n, expired: true }, { sessionId: 10n, expired: false }],
    };
    assert.deepEqual(plain(roundTrip(encodeCommit(msg))), plain(msg));
  });

  test('a control message travels with its bigints and bytes', () => {
    const attach = { kind: 'attach', reqId: 3, connId: 4, sessionId: 0n, password: new Uint8Array(16).fill(7), timeoutMs: 4000, lastZxidSeen: 0x1_0000_0000n } as const;
    assert.deepEqual(plain(roundTrip(encodeControl(attach))), plain({ kind: 'control', msg: attach }));
    const touch = { kind: 'touch' as const, sessionIds: [1n, 0xffff_ffff_ffff_ffffn] };
    assert.deepEqual(roundTrip(encodeControl(touch)), { kind: 'control', msg: touch });
  });

  test('property: random setData/create/delete batches round-trip', () => {
    const path = fc.string({ minLength: 1, maxLength: 40 }).map((s) => '/' + s);
    const op: fc.Arbitrary<WriteOp> = fc.oneof(
      fc.record({ type: fc.constant('setData' as const), path, data: fc.uint8Array({ maxLength: 2048 }), version: fc.integer({ min: -1, max: 2 ** 31 - 1 }) }),
      fc.record({ type: fc.constant('create' as const), path, data: fc.uint8Array({ maxLength: 64 }), mode: fc.constantFrom(...createModes), acl: fc.constant(OPEN_ACL_UNSAFE), ttlMs: fc.integer({ min: 0, max: 2 ** 40 - 1 }) }),
      fc.record({ type: fc.constant('delete' as const), path, version: fc.integer({ min: -1, max: 100 }) }),
    );
    const req = fc.record({ sessionId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), tag: fc.nat(), authIds: fc.array(fc.record({ scheme: fc.string(), id: fc.string() }), { maxLength: 3 }), op });
    fc.assert(
      fc.property(fc.array(req, { maxLength: 50 }), (requests) => {
        assert.deepEqual(plain(roundTrip(encodeWrites(requests))), plain({ kind: 'writes', requests }));
      }),
      { numRuns: 200 },
    );
  });

  test("a request with an origin (a leader's) is refused: workers never send one", () => {
    const req: WriteRequest = { sessionId: 1n, tag: 1, authIds: [], op: { type: 'sync', path: '/' }, origin: { serverId: 1, sessionId: 1n, tag: 1 } };
    assert.throws(() => encodeWrites([req]), /no origin/);
  });
});
