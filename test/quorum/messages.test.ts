// Peer messages survive the transport's msgpack encoding (msgpackr, useRecords:false, bigints as
// int64) and validatePeerMessage checks every field: anything malformed throws PeerMessageError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import { constants } from '../../src/common/constants.js';
import { PeerMessageError, validatePeerMessage, type PeerMessage } from '../../src/server/quorum/messages.js';

const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });
const roundTrip = (m: unknown): unknown => packr.unpack(packr.pack(m));

const origin = { serverId: 2, sessionId: 0x1234_5678_9abc_def0n, tag: 17 };
const z = 0x0000_0003_0000_0007n;
const samples: PeerMessage[] = [
  { t: 'vote', vote: { leader: 3, zxid: z, peerEpoch: 3 }, electionEpoch: 9, state: 'looking' },
  { t: 'followerInfo', acceptedEpoch: 4, lastZxid: z, historyBase: 0n, observer: false, attempt: 3 },
  { t: 'leaderInfo', epoch: 5 },
  { t: 'ackEpoch', currentEpoch: 3, lastZxid: z },
  { t: 'diff', zxid: z },
  { t: 'trunc', zxid: 5n },
  { t: 'snap', zxid: z, offset: 0, totalBytes: 3, chunk: new Uint8Array([1, 2, 3]), last: true },
  { t: 'newLeader', epoch: 5, zxid: 5n << 32n },
  { t: 'upToDate', committed: z },
  { t: 'proposal', zxid: z, txn: new Uint8Array([9, 9]), origin },
  { t: 'proposal', zxid: z, txn: new Uint8Array([9]), origin: null },
  { t: 'proposals', zxid: z, txns: [new Uint8Array([9]), new Uint8Array([8, 8])], origins: [origin, null] },
  { t: 'commit', zxid: z },
  { t: 'inform', zxid: z, txn: new Uint8Array([1]), origin },
  { t: 'ack', zxid: z },
  { t: 'ping', committed: z },
  { t: 'pong', sessionIds: [1n, 0x7fff_ffff_ffff_ffffn] },
  {
    t: 'request', origin,
    request: { sessionId: origin.sessionId, tag: 17, authIds: [{ scheme: 'ip', id: '127.0.0.1' }], op: { type: 'create', path: '/a', data: new Uint8Array([1]), mode: 'ephemeral_sequential', acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], ttlMs: -1 } },
  },
  { t: 'request', origin, request: { sessionId: 1n, tag: 1, authIds: [], op: { type: 'multi', ops: [{ type: 'check', path: '/a', version: 1 }, { type: 'delete', path: '/a', version: -1 }] } } },
  { t: 'reply', origin, afterZxid: z, result: { ok: false, code: 'NONODE', path: '/a' } },
  { t: 'reply', origin, afterZxid: z, result: { ok: true, value: { type: 'sync' } } },
];

test('every peer message round-trips msgpack and validates to an equal message', () => {
  for (const m of samples) {
    const back = validatePeerMessage(roundTrip(m));
    assert.deepEqual(norm(back), norm(m), m.t);
  }
});

test('small zxids arrive as plain integers and are turned back into bigints', () => {
  const back = validatePeerMessage({ t: 'ack', zxid: 42 });
  assert.deepEqual(back, { t: 'ack', zxid: 42n });
});

test('malformed peer messages are refused with PeerMessageError', () => {
  const bad: unknown[] = [
    null, 7, 'vote', [1, 2], {}, { t: 'nope' }, { t: 'constructor' },
    { t: 'ack' }, { t: 'ack', zxid: -1 }, { t: 'ack', zxid: 1.5 }, { t: 'ack', zxid: 2n ** 64n },
    { t: 'vote', vote: { leader: 0, zxid: 1, peerEpoch: 1 }, electionEpoch: 1, state: 'looking' },
    { t: 'vote', vote: { leader: 1, zxid: 1, peerEpoch: 1 }, electionEpoch: 1, state: 'bored' },
    { t: 'leaderInfo', epoch: 2 ** 32 },
    { t: 'snap', zxid: 1, offset: 0, totalBytes: 2, chunk: new Uint8Array(3), last: true },
    { t: 'snap', zxid: 1, offset: 0, totalBytes: 4, chunk: new Uint8Array(3), last: true },
    { t: 'proposal', zxid: 1, txn: 'text', origin: null },
    { t: 'proposal', zxid: 1, txn: new Uint8Array(1), origin: { serverId: 1, sessionId: 1, tag: 'x' } },
    { t: 'proposals', zxid: z, txns: [], origins: [] },
    { t: 'proposals', zxid: z, txns: [new Uint8Array(1)], origins: [] },
    { t: 'proposals', zxid: z, txns: [new Uint8Array(1), 'text'], origins: [null, null] },
    { t: 'proposals', zxid: (3n << 32n) | 0xffff_ffffn, txns: [new Uint8Array(1), new Uint8Array(1)], origins: [null, null] },
    { t: 'proposals', zxid: z, txns: new Array(constants.zabProposalsPerMessageMax + 1).fill(new Uint8Array(1)), origins: new Array(constants.zabProposalsPerMessageMax + 1).fill(null) },
    { t: 'pong', sessionIds: [1, 'x'] },
    { t: 'request', origin, request: { sessionId: 1n, tag: 1, authIds: [], op: { type: 'create', path: 'no-slash', data: new Uint8Array(), mode: 'persistent', acl: [], ttlMs: -1 } } },
    { t: 'request', origin, request: { sessionId: 1n, tag: 1, authIds: [], op: { type: 'multi', ops: [{ type: 'multi', ops: [] }] } } },
    { t: 'reply', origin, afterZxid: 1, result: { ok: false, code: 'NOT_A_CODE' } },
    { t: 'reply', origin, afterZxid: 1, result: { ok: true, value: { type: 'setData', stat: {} } } },
  ];
  for (const b of bad) assert.throws(() => validatePeerMessage(b), PeerMessageError, JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
});

function norm(x: unknown): unknown {
  if (typeof x === 'bigint') return `${x}n`;
  if (x instanceof Uint8Array) return [...x]; // msgpackr gives Buffers back
  if (Array.isArray(x)) return x.map(norm);
  if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)]));
  return x;
}
