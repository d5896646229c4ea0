// Round trips of every message kind, and the encoding of 64-bit fields and ms times.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Packr, Unpackr } from 'msgpackr';
import { errorCodes } from '../../src/common/errors.js';
import type { Stat } from '../../src/common/types.js';
import {
  decodeClientFrame,
  decodeErrorPayload,
  decodeServerFrame,
  encodeClosing,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeRequest,
  encodeResponse,
  encodeWatchEvent,
  Opcode,
  payloads,
  results,
  type Request,
} from '../../src/protocol/index.js';

const acl = [{ perms: 31, scheme: 'world', id: 'anyone' }, { perms: 1, scheme: 'digest', id: 'u:abc=' }];
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));
const now = 1_717_171_717_171; // > 2^32 ms: must come back as a number
const stat: Stat = {
  czxid: 0x1_0000_0005n,
  mzxid: 0x1_0000_0009n,
  pzxid: 0x2_0000_0001n,
  ctime: now,
  mtime: now + 1,
  version: 3,
  cversion: -1,
  aversion: 0,
  ephemeralOwner: 0x7234_5678_9abc_def0n,
  dataLength: 5,
  numChildren: 2,
};

const requests: Request[] = [
  { opcode: Opcode.create, xid: 1, path: '/a', data: bytes('x'), acl, mode: 'persistent', ttlMs: 0 },
  { opcode: Opcode.create2, xid: 2, path: '/a/', data: bytes(''), acl, mode: 'ephemeral_sequential', ttlMs: 0 },
  { opcode: Opcode.create, xid: 3, path: '/t', data: bytes('t'), acl, mode: 'persistent_with_ttl', ttlMs: 2 ** 40 - 1 },
  { opcode: Opcode.delete, xid: 4, path: '/a', version: -1 },
  { opcode: Opcode.exists, xid: 5, path: '/a', watch: true },
  { opcode: Opcode.getData, xid: 6, path: '/a', watch: false },
  { opcode: Opcode.setData, xid: 7, path: '/a', data: bytes('y'), version: 2 ** 31 - 1 },
  { opcode: Opcode.getACL, xid: 8, path: '/a' },
  { opcode: Opcode.setACL, xid: 9, path: '/a', acl, version: 0 },
  { opcode: Opcode.getChildren, xid: 10, path: '/', watch: true, withStat: true },
  { opcode: Opcode.sync, xid: 11, path: '/' },
  { opcode: Opcode.ping, xid: 12 },
  {
    opcode: Opcode.multi,
    xid: 13,
    ops: [
      { opcode: Opcode.create, path: '/m', data: bytes('1'), acl, mode: 'container', ttlMs: 0 },
      { opcode: Opcode.delete, path: '/m', version: 1 },
      { opcode: Opcode.setData, path: '/m', data: bytes('2'), version: -1 },
      { opcode: Opcode.check, path: '/m', version: 4 },
    ],
  },
  { opcode: Opcode.checkWatches, xid: 14, path: '/a', watchBits: 3 },
  { opcode: Opcode.removeWatches, xid: 15, path: '/a', watchBits: 15 },
  { opcode: Opcode.addAuth, xid: 16, scheme: 'digest', credential: bytes('u:p') },
  { opcode: Opcode.getEphemerals, xid: 17, prefix: '/' },
  { opcode: Opcode.getAllChildrenNumber, xid: 18, path: '/a' },
  {
    opcode: Opcode.setWatches,
    xid: 19,
    relativeZxid: 0x5_0000_0001n,
    data: ['/a'],
    exist: ['/b', '/c'],
    child: [],
    persistent: ['/p'],
    persistentRecursive: ['/'],
  },
  { opcode: Opcode.addWatch, xid: 20, path: '/r', mode: 'persistent_recursive' },
  { opcode: Opcode.close, xid: 0xffff_ffff },
];

function normalise(v: unknown): unknown {
  // Compare binaries by content, whatever their class (Buffer vs Uint8Array).
  if (v instanceof Uint8Array) return { bin: Array.from(v) };
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}

test('every request kind round-trips', () => {
  const seen = new Set<number>();
  for (const r of requests) {
    const decoded = decodeClientFrame(encodeRequest(r));
    assert.deepEqual(normalise(decoded), normalise(r));
    seen.add(r.opcode);
  }
  for (const op of Object.values(Opcode)) if (op !== Opcode.connect && op !== Opcode.check) assert.ok(seen.has(op), `opcode ${op} covered`);
});

test('connect request and response round-trip', () => {
  const password = new Uint8Array(16).fill(7);
  const req = { protocolVersion: 1, lastZxidSeen: 0x3_0000_0010n, sessionTimeoutMs: 30_000, sessionId: 0x0100_0000_0000_0001n, password, readOnly: false };
  assert.deepEqual(normalise(decodeClientFrame(encodeConnectRequest(req))), normalise({ opcode: Opcode.connect, ...req }));
  const resp = { protocolVersion: 1, sessionTimeoutMs: 20_000, sessionId: 0x0100_0000_0000_0001n, password, readOnly: false, dataBytesMax: 1_048_576 };
  assert.deepEqual(normalise(decodeServerFrame(encodeConnectResponse(resp))), normalise({ kind: 'connected', ...resp }));
});

test('server messages round-trip', () => {
  assert.deepEqual(decodeServerFrame(encodeClosing('SESSIONEXPIRED', 'gone')), { kind: 'closing', code: 'SESSIONEXPIRED', reason: 'gone' });
  assert.deepEqual(decodeServerFrame(encodeWatchEvent(9n, 'childrenChanged', '/x')), { kind: 'watch', zxid: 9n, type: 'childrenChanged', path: '/x' });
  for (const type of ['created', 'deleted', 'dataChanged', 'childrenChanged'] as const) {
    const m = decodeServerFrame(encodeWatchEvent(1n, type, '/x'));
    assert.equal(m.kind === 'watch' && m.type, type);
  }
  const r = decodeServerFrame(encodeResponse(7, 0x1_0000_0000n, payloads.stat(stat)));
  assert.equal(r.kind, 'response');
  if (r.kind !== 'response') return;
  assert.equal(r.xid, 7);
  assert.equal(r.zxid, 0x1_0000_0000n);
  assert.equal(r.error, null);
  assert.deepEqual(results.stat(r.payload), stat);
});

function payloadOf(frame: Buffer): unknown {
  const m = decodeServerFrame(frame);
  assert.equal(m.kind, 'response');
  return m.kind === 'response' ? m.payload : undefined;
}

test('every result payload round-trips', () => {
  assert.equal(results.create(payloadOf(encodeResponse(1, 1n, payloads.create('/a0000000001')))), '/a0000000001');
  assert.deepEqual(results.create2(payloadOf(encodeResponse(1, 1n, payloads.create2('/a', stat)))), { path: '/a', stat });
  const gd = results.getData(payloadOf(encodeResponse(1, 1n, payloads.getData(bytes('hello'), stat))));
  assert.ok(Buffer.isBuffer(gd.data));
  assert.equal(gd.data.toString(), 'hello');
  assert.deepEqual(gd.stat, stat);
  assert.deepEqual(results.getChildren(payloadOf(encodeResponse(1, 1n, payloads.getChildren(['a', 'b'], null)))), { children: ['a', 'b'], stat: null });
  assert.deepEqual(results.getChildren(payloadOf(encodeResponse(1, 1n, payloads.getChildren([], stat)))), { children: [], stat });
  assert.deepEqual(results.getACL(payloadOf(encodeResponse(1, 1n, payloads.getACL(acl, stat)))), { acl, stat });
  assert.equal(results.statOrNull(payloadOf(encodeResponse(1, 1n, null))), null);
  assert.equal(results.number(payloadOf(encodeResponse(1, 1n, 123_456))), 123_456);
  assert.deepEqual(results.paths(payloadOf(encodeResponse(1, 1n, ['/e1', '/e2']))), ['/e1', '/e2']);
  results.none(payloadOf(encodeResponse(1, 1n, null)));
  const multi = [{ op: 'create', path: '/m' }, { op: 'delete' }, { op: 'setData', stat }, { op: 'check' }] as const;
  assert.deepEqual(results.multi(payloadOf(encodeResponse(1, 1n, payloads.multi([...multi]))), 4), multi);
});

test('error responses carry code, message and per-op codes', () => {
  const m = decodeServerFrame(encodeErrorResponse(3, 5n, 'NONODE', 'no node /x'));
  assert.equal(m.kind === 'response' && m.error, 'NONODE');
  assert.deepEqual(decodeErrorPayload(m.kind === 'response' ? m.payload : null), { message: 'no node /x', opCodes: null });
  const m2 = decodeServerFrame(encodeErrorResponse(3, 5n, 'BADVERSION', undefined, ['OK', 'BADVERSION', 'RUNTIMEINCONSISTENCY']));
  assert.deepEqual(decodeErrorPayload(m2.kind === 'response' ? m2.payload : null), { message: null, opCodes: ['OK', 'BADVERSION', 'RUNTIMEINCONSISTENCY'] });
  const m3 = decodeServerFrame(encodeErrorResponse(3, 5n, 'SYSTEMERROR'));
  assert.deepEqual(decodeErrorPayload(m3.kind === 'response' ? m3.payload : 'x'), { message: null, opCodes: null });
  for (const code of Object.keys(errorCodes)) {
    if (code === 'OK') continue;
    const d = decodeServerFrame(encodeErrorResponse(1, 1n, code as 'NONODE'));
    assert.equal(d.kind === 'response' && d.error, code);
  }
});

test('64-bit fields are bigint, ms times stay numbers, on the wire as standard MessagePack', () => {
  const frame = encodeResponse(1, 0x1_0000_0001n, payloads.stat(stat));
  // A plain decoder (another client) reads the stat: int64 fields and float64 times.
  const plain = new Unpackr({ useRecords: false, int64AsType: 'bigint' }).unpack(frame) as unknown[];
  const wire = plain[3] as unknown[];
  assert.equal(typeof wire[0], 'bigint');
  assert.equal(typeof wire[3], 'number');
  assert.equal(wire[3], now);
  assert.equal(typeof wire[8], 'bigint');
  // int64 marker 0xd3 for bigint, float64 marker 0xcb for the ms time
  const one = new Packr({ useRecords: false }).pack(now);
  assert.equal(one[0], 0xcb);
  // Another encoder may write small 64-bit fields as plain ints, or times as uint64: both accepted.
  const foreign = new Packr({ useRecords: false }).pack([1, 5, null, [1, 2, 3, BigInt(now), now, 0, 0, 0, 0, 0, 0]]);
  const d = decodeServerFrame(foreign);
  assert.ok(d.kind === 'response');
  assert.equal(d.zxid, 5n);
  const s = results.stat(d.payload);
  assert.equal(s.czxid, 1n);
  assert.equal(s.ctime, now);
  assert.equal(typeof s.ctime, 'number');
  assert.equal(s.ephemeralOwner, 0n);
});

test('every ErrorCode is documented in src/protocol/README.md', () => {
  const readme = readFileSync(new URL('../../../src/protocol/README.md', import.meta.url), 'utf8');
  for (const [code, n] of Object.entries(errorCodes)) {
    assert.match(readme, new RegExp(`\\| ${code} \\| ${n} \\| \\S`), `${code} documented with its number and meaning`);
  }
});
