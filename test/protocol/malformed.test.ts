// Every class of malformed frame is rejected with ProtocolError, and nothing else escapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { constants } from '../../src/common/constants.js';
import { decodeClientFrame, decodeServerFrame, Opcode, ProtocolError, protocolLimits } from '../../src/protocol/index.js';

const packr = new Packr({ useRecords: false });
const acl = [[31, 'world', 'anyone']];
const limits = { dataBytesMax: 1000, frameBytesMax: constants.frameBytesMax };

function rejects(value: unknown, pattern?: RegExp, lim = limits): ProtocolError {
  const frame = value instanceof Uint8Array ? value : packr.pack(value);
  try {
    decodeClientFrame(frame, lim);
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${String(e)}`);
    assert.equal(e.name, 'ProtocolError');
    if (pattern !== undefined) assert.match(e.reason, pattern);
    return e;
  }
  assert.fail(`accepted ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
}

test('not MessagePack, truncated, trailing bytes, empty, oversized frame', () => {
  const good = packr.pack([Opcode.getData, 1, '/a', false]);
  rejects(good.subarray(0, good.length - 1), /malformed/);
  rejects(Buffer.concat([good, Buffer.from([0])]), /malformed/);
  rejects(new Uint8Array(0), /empty/);
  rejects(new Uint8Array([0xc1])); // 0xc1 is never used in MessagePack // 0xc1 is never used in MessagePack
  rejects(new Uint8Array(limits.frameBytesMax + 1), /over the limit/);
  rejects(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]), /malformed/); // array32 of 4G elements
  rejects(new Uint8Array([0xc6, 0x7f, 0xff, 0xff, 0xff]), /malformed/); // bin32 of 2 GiB, no bytes
});

test('wrong shapes: not an array, maps, wrong lengths', () => {
  rejects(42, /array/);
  rejects('hello', /array/);
  rejects({ opcode: 4 }, /array/);
  rejects([Opcode.getData], /at least/);
  rejects([Opcode.getData, 1, '/a'], /expected 4/);
  rejects([Opcode.getData, 1, '/a', false, 'extra'], /expected 4/);
  rejects(new Array(9).fill(1), /at most/);
});

test('bad opcode and xid', () => {
  rejects([99, 1, '/a'], /unknown opcode/);
  rejects([Opcode.check, 1, '/a', 1], /unknown opcode/); // check only inside multi
  rejects(['4', 1, '/a', false], /opcode/);
  rejects([Opcode.getData, -1, '/a', false], /xid/);
  rejects([Opcode.getData, 2 ** 32, '/a', false], /xid/);
  rejects([Opcode.getData, 1.5, '/a', false], /xid/);
  const e = rejects([Opcode.getData, 77, 5, false]);
  assert.equal(e.xid, 77, 'the xid is kept when known');
});

test('wrong field types and ranges', () => {
  rejects([Opcode.getData, 1, '/a', 1], /watch/);
  rejects([Opcode.delete, 1, '/a', -2], /version/);
  rejects([Opcode.delete, 1, '/a', 2 ** 31], /version/);
  rejects([Opcode.delete, 1, '/a', '1'], /version/);
  rejects([Opcode.setData, 1, '/a', 'text', -1], /binary/);
  rejects([Opcode.create, 1, '/a', new Uint8Array(0), acl, 7, 0], /mode/);
  rejects([Opcode.create, 1, '/a', new Uint8Array(0), acl, 0, 5], /ttlMs/);
  rejects([Opcode.create, 1, '/a', new Uint8Array(0), acl, 5, 0], /ttlMs/);
  rejects([Opcode.create, 1, '/a', new Uint8Array(0), acl, 5, 2 ** 40], /ttlMs/);
  rejects([Opcode.addWatch, 1, '/a', 2], /mode/);
  rejects([Opcode.removeWatches, 1, '/a', 0], /watchBits/);
  rejects([Opcode.removeWatches, 1, '/a', 16], /watchBits/);
  rejects([Opcode.addAuth, 1, 'digest', 'u:p'], /binary/);
  rejects([Opcode.addAuth, 1, 'digest', new Uint8Array(protocolLimits.authCredentialBytesMax + 1)], /limit/);
  rejects([Opcode.getChildren, 1, '/a', false, null], /withStat/);
});

test('connect validation', () => {
  const pw = new Uint8Array(16);
  decodeClientFrame(packr.pack([Opcode.connect, 1, 0n, 10_000, 0n, pw, false]));
  rejects([Opcode.connect, 1, 0n, 10_000, 0n, new Uint8Array(15), false], /password/);
  rejects([Opcode.connect, 1, 0n, 10_000, 0n, new Uint8Array(17), false], /password/);
  rejects([Opcode.connect, 1, 0n, 0, 0n, pw, false], /sessionTimeoutMs/);
  rejects([Opcode.connect, 1, 'zero', 10_000, 0n, pw, false], /lastZxidSeen/);
  rejects([Opcode.connect, 1, 0n, 10_000, 1.5, pw, false], /sessionId/);
  rejects([Opcode.connect, 1, 0n, 10_000, 0n, pw], /7 elements/);
});

test('bad paths', () => {
  for (const p of ['', 'a', '/a/', '/a//b', '/a/./b', '/a/../b', '/a\u0000b', '/a\u0001', '/' + 'x'.repeat(constants.pathBytesMax)]) {
    rejects([Opcode.getData, 1, p, false], /path/);
  }
  rejects([Opcode.getData, 1, '/a' + '/a'.repeat(constants.pathDepthMax), false], /deeper/);
  // a trailing '/' is only for sequential creates
  rejects([Opcode.create, 1, '/a/', new Uint8Array(0), acl, 0, 0], /path/);
  decodeClientFrame(packr.pack([Opcode.create, 1, '/a/', new Uint8Array(0), acl, 2, 0]), limits);
});

test('data size: exactly dataBytesMax accepted, one more rejected', () => {
  const max = limits.dataBytesMax;
  decodeClientFrame(packr.pack([Opcode.setData, 1, '/a', new Uint8Array(max), -1]), limits);
  rejects([Opcode.setData, 1, '/a', new Uint8Array(max + 1), -1], /over the limit/);
  decodeClientFrame(packr.pack([Opcode.create, 1, '/a', new Uint8Array(max), acl, 0, 0]), limits);
  rejects([Opcode.create, 1, '/a', new Uint8Array(max + 1), acl, 0, 0], /over the limit/);
  rejects([Opcode.multi, 1, [[Opcode.setData, '/a', new Uint8Array(max + 1), -1]]], /over the limit/);
  // the default limit is the 1 MiB of constants.ts
  decodeClientFrame(packr.pack([Opcode.setData, 1, '/a', new Uint8Array(constants.dataBytesMax), -1]));
  assert.throws(() => decodeClientFrame(packr.pack([Opcode.setData, 1, '/a', new Uint8Array(constants.dataBytesMax + 1), -1])), ProtocolError);
});

test('ACL shape', () => {
  const mk = (a: unknown): unknown[] => [Opcode.setACL, 1, '/a', a, -1];
  rejects(mk('world:anyone'), /acl/);
  rejects(mk([[31, 'world']]), /acl/);
  rejects(mk([[32, 'world', 'anyone']]), /perms/);
  rejects(mk([[-1, 'world', 'anyone']]), /perms/);
  rejects(mk([[31, 1, 'anyone']]), /scheme/);
  rejects(mk([[31, 'world', 'x'.repeat(protocolLimits.aclIdBytesMax + 1)]]), /id/);
  rejects(mk(new Array(protocolLimits.aclEntriesMax + 1).fill([1, 'world', 'anyone'])), /at most/);
  decodeClientFrame(packr.pack(mk(new Array(protocolLimits.aclEntriesMax).fill([1, 'world', 'anyone']))));
});

test('multi and setWatches: bad ops, huge arrays', () => {
  rejects([Opcode.multi, 1, 'ops'], /array/);
  rejects([Opcode.multi, 1, [[Opcode.getData, '/a', false]]], /not allowed/);
  rejects([Opcode.multi, 1, [[Opcode.delete, '/a']]], /elements/);
  rejects([Opcode.multi, 1, new Array(protocolLimits.multiOpsMax + 1).fill([Opcode.check, '/a', 1])], /at most/);
  const sw = (lists: unknown[]): unknown[] => [Opcode.setWatches, 1, 0n, ...lists];
  rejects(sw([[], [], [], []]), /expected 8/);
  rejects(sw([['/a'], [], [5], [], []]), /path/);
  const many = new Array(Math.ceil(protocolLimits.setWatchesPathsMax / 2) + 1).fill('/a');
  rejects(sw([many, many, [], [], []]), /more than/);
});

test('server frames: malformed ones rejected', () => {
  const bad: unknown[] = [
    [1, 1n, null],
    [1, 1n, -9999, null], // unknown error code
    [-1, 1n, 5, '/a'], // event type 5 does not travel
    [-1, 1n, 1, 'a'], // bad path
    [-7, 1, 2], // unknown kind
    [-10, 1, 10_000, 1n, new Uint8Array(3), false, 100],
    [-11, 0, 'x'], // OK is no closing code
    ['x', 1, 2, 3],
  ];
  for (const b of bad) assert.throws(() => decodeServerFrame(packr.pack(b)), ProtocolError, JSON.stringify(b, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
});

test('property: arbitrary bytes or values never throw anything but ProtocolError', () => {
  const check = (frame: Uint8Array): void => {
    for (const decode of [(b: Uint8Array) => decodeClientFrame(b, limits), (b: Uint8Array) => decodeServerFrame(b)]) {
      try {
        decode(frame);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }
  };
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (b) => check(b)), { numRuns: 3000 });
  const field = fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.string(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 4 }), fc.constantFrom('/a', '/', '/a/b'));
  const msg = fc.tuple(fc.constantFrom(-11, -10, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14, 15, 17, 18, 100, 103, 104, 105, 106), fc.array(fc.oneof(field, fc.array(field, { maxLength: 4 })), { maxLength: 8 }));
  fc.assert(fc.property(msg, ([op, rest]) => check(packr.pack([op, ...rest]))), { numRuns: 3000 });
});
