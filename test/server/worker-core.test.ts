// The session worker's parts without threads or sockets: the ordering engine, reads, watch
// firing and the msgpack codec through WorkerCore, with an in-thread tree, a recorded socket, a
// commit "port" that is an array, and deferred work run by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { constants } from '../../src/common/constants.js';
import { OPEN_ACL_UNSAFE } from '../../src/common/types.js';
import { decodeServerFrame, encodeConnectRequest, encodeRequest, Opcode, protocolLimits, type Request, type ServerMessage } from '../../src/protocol/index.js';
import { createTree, type TreeWriter } from '../../src/server/tree/index.js';
import { msgpackCodec } from '../../src/server/workers/codec.js';
import { WorkerCore, type Conn } from '../../src/server/workers/core.js';
import type { CommitMessage, CommitPortMessage, ToMain } from '../../src/server/workers/messages.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: unknown): string => new TextDecoder().decode(b as Uint8Array);

function rig(tree: TreeWriter = createTree()) {
  const toMain: ToMain[] = [];
  const commitQueue: CommitPortMessage[] = [];
  const deferred: (() => void)[] = [];
  const trees = new Map<SharedArrayBuffer, TreeWriter>([[tree.buffer, tree]]);
  let nowMs = 1_000;
  const core = new WorkerCore({
    workerId: 3,
    tree,
    takeCommit: () => commitQueue.shift(),
    toMain: (m) => void toMain.push(m),
    defer: (fn) => void deferred.push(fn),
    openTree: (buffer) => {
      const t = trees.get(buffer);
      assert.ok(t, 'a known tree');
      return t;
    },
    now: () => nowMs,
    dataBytesMax: constants.dataBytesMax,
    outstandingWritesMax: 100,
  });
  const codec = msgpackCodec({ dataBytesMax: constants.dataBytesMax, frameBytesMax: constants.frameBytesMax });
  const runDeferred = (): void => {
    for (const fn of deferred.splice(0)) fn();
  };
  /** A connection with its received frames, decoded. */
  const open = (): { conn: Conn; frames: ServerMessage[]; ended: () => boolean } => {
    const frames: ServerMessage[] = [];
    let ended = false;
    const conn = core.open({ send: (f) => void frames.push(decodeServerFrame(f)), end: () => void (ended = true), cork: (fn) => fn() }, '127.0.0.1', codec);
    return { conn, frames, ended: () => ended };
  };
  const connectFrame = (sessionId = 0n, lastZxidSeen = 0n): Uint8Array =>
    encodeConnectRequest({ protocolVersion: protocolLimits.protocolVersion, lastZxidSeen, sessionTimeoutMs: 10_000, sessionId, password: new Uint8Array(16), readOnly: false });
  /** Handshake and attach as session `sessionId`. */
  const session = (sessionId: bigint): ReturnType<typeof open> => {
    const c = open();
    core.receive(c.conn, connectFrame(), true);
    const attach = toMain.findLast((m) => m.kind === 'attach');
    assert.ok(attach && attach.kind === 'attach');
    core.attachAnswer({ kind: 'attached', reqId: attach.reqId, sessionId, password: new Uint8Array(16), timeoutMs: 10_000 });
    assert.equal(c.frames.at(-1)?.kind, 'connected');
    c.frames.length = 0;
    return c;
  };
  const send = (conn: Conn, r: Request): void => core.receive(conn, encodeRequest(r), true);
  return { core, toMain, commitQueue, trees, runDeferred, open, session, send, connectFrame, setNow: (ms: number) => (nowMs = ms) };
}

/** Applies setData(path, value) to the tree as the pipeline would, and returns its commit message. */
function commitSetData(tree: TreeWriter, zxid: bigint, tag: number, sessionId: bigint, path: string, value: string): CommitMessage {
  tree.beginWrite();
  tree.setData(path, enc(value));
  tree.updateStat(path, { mzxid: zxid, version: (tree.statOf(path)?.version ?? 0) + 1 });
  tree.endWrite(zxid);
  const stat = tree.statOf(path)!;
  return {
    kind: 'commit',
    zxid,
    events: [{ type: 'dataChanged', path, zxid }],
    replies: tag === 0 ? [] : [{ tag, sessionId, zxid, result: { ok: true, value: { type: 'setData', stat } }, events: [], eventsBefore: 1 } as unknown as CommitMessage['replies'][number]],
    endedSessions: [],
  };
}

function withNode(path: string, value: string): TreeWriter {
  const tree = createTree();
  tree.beginWrite();
  tree.createNode(path, { data: enc(value), aclIndex: tree.internAcl(OPEN_ACL_UNSAFE), ephemeralOwner: 0n, zxid: 0n, timeMs: 0 });
  tree.endWrite(0n);
  return tree;
}

function writesSent(toMain: ToMain[]): Extract<ToMain, { kind: 'writes' }>['requests'] {
  return toMain.flatMap((m) => (m.kind === 'writes' ? m.requests : []));
}

describe('ordering engine', () => {
  test('a read waits behind the session’s earlier write and sees it', () => {
    const tree = withNode('/a', 'old');
    const r = rig(tree);
    const s = r.session(7n);
    r.send(s.conn, { opcode: Opcode.setData, xid: 1, path: '/a', data: enc('new'), version: -1 });
    r.send(s.conn, { opcode: Opcode.getData, xid: 2, path: '/a', watch: false });
    assert.equal(s.frames.length, 0, 'the read does not run before the write is answered');
    assert.equal(writesSent(r.toMain).length, 0, 'writes of one turn leave together, after it');
    r.runDeferred();
    const [w] = writesSent(r.toMain);
    assert.ok(w && w.op.type === 'setData' && w.sessionId === 7n);
    assert.equal(w.tag % 256, 3, 'the tag names this worker');
    r.core.commit(commitSetData(tree, 1n, w.tag, 7n, '/a', 'new'));
    assert.deepEqual(s.frames.map((f) => (f.kind === 'response' ? f.xid : f.kind)), [1, 2]);
    const read = s.frames[1]!;
    assert.ok(read.kind === 'response' && read.error === null);
    assert.equal(dec((read.payload as unknown[])[0]), 'new');
  });

  test('a write behind an unexecuted read is not forwarded before the read ran', () => {
    const tree = withNode('/a', 'old');
    const r = rig(tree);
    const s = r.session(7n);
    r.send(s.conn, { opcode: Opcode.setData, xid: 1, path: '/a', data: enc('one'), version: -1 });
    r.send(s.conn, { opcode: Opcode.getData, xid: 2, path: '/a', watch: false });
    r.send(s.conn, { opcode: Opcode.setData, xid: 3, path: '/a', data: enc('two'), version: -1 });
    r.runDeferred();
    assert.equal(writesSent(r.toMain).length, 1, 'the second write waits for the read before it');
    r.core.commit(commitSetData(tree, 1n, writesSent(r.toMain)[0]!.tag, 7n, '/a', 'one'));
    const read = s.frames.find((f) => f.kind === 'response' && f.xid === 2);
    assert.ok(read && read.kind === 'response');
    assert.equal(dec((read.payload as unknown[])[0]), 'one', 'the read does not see the later write');
    r.runDeferred();
    assert.equal(writesSent(r.toMain).length, 2, 'then the second write goes');
  });

  test('a handshake flushes the writes already read before it asks to attach', () => {
    const tree = withNode('/a', 'old');
    const r = rig(tree);
    const s = r.session(7n);
    r.send(s.conn, { opcode: Opcode.setData, xid: 1, path: '/a', data: enc('new'), version: -1 });
    const other = r.open();
    r.core.receive(other.conn, r.connectFrame(7n), true);
    const kinds = r.toMain.map((m) => m.kind);
    assert.deepEqual(kinds.slice(-2), ['writes', 'attach'], 'the session’s earlier write is counted on the main thread first');
  });

  test('a read catches up to the tree state it saw: the watch event comes before the data', () => {
    const tree = withNode('/a', 'old');
    const r = rig(tree);
    const watcher = r.session(7n);
    const reader = r.session(8n);
    r.send(watcher.conn, { opcode: Opcode.getData, xid: 1, path: '/a', watch: true });
    watcher.frames.length = 0;
    // Another worker's write commits; its commit message is queued, not yet delivered as an event.
    r.commitQueue.push(commitSetData(tree, 1n, 0, 9n, '/a', 'new'));
    r.send(watcher.conn, { opcode: Opcode.getData, xid: 2, path: '/a', watch: false });
    assert.deepEqual(watcher.frames.map((f) => f.kind), ['watch', 'response']);
    const ev = watcher.frames[0]!;
    assert.ok(ev.kind === 'watch' && ev.type === 'dataChanged' && ev.path === '/a' && ev.zxid === 1n);
    assert.equal(r.commitQueue.length, 0, 'the queued commit was processed by the catch-up');
    r.send(reader.conn, { opcode: Opcode.exists, xid: 1, path: '/a', watch: false });
    assert.deepEqual(reader.frames.map((f) => f.kind), ['response'], 'no event for a session without a watch');
  });

  test('a session ended in a commit closes the connection still holding it', () => {
    const r = rig();
    const s = r.session(7n);
    r.core.commit({ kind: 'commit', zxid: 0n, events: [], replies: [], endedSessions: [{ sessionId: 7n, expired: true }] });
    const last = s.frames.at(-1);
    assert.ok(last && last.kind === 'closing' && last.code === 'SESSIONEXPIRED');
    assert.ok(s.ended());
    assert.equal(r.core.conns.size, 0);
  });
});

describe('worker core: handshake, serving, tree swap, codec', () => {
  test('a client that has seen a newer zxid than the tree is refused before the session is touched', () => {
    const r = rig();
    const c = r.open();
    r.core.receive(c.conn, r.connectFrame(7n, 5n), true);
    const f = c.frames[0];
    assert.ok(f && f.kind === 'closing' && f.code === 'CONNECTIONLOSS' && /newer zxid/.test(f.reason));
    assert.equal(r.toMain.filter((m) => m.kind === 'attach').length, 0);
  });

  test('serving=false closes every connection and refuses handshakes until serving again', () => {
    const r = rig();
    const a = r.session(7n);
    const b = r.session(8n);
    r.core.setServing(false, 'looking for a leader');
    for (const c of [a, b]) {
      const f = c.frames.at(-1);
      assert.ok(f && f.kind === 'closing' && f.code === 'CONNECTIONLOSS' && /looking for a leader/.test(f.reason));
      assert.ok(c.ended());
    }
    assert.deepEqual(r.toMain.filter((m) => m.kind === 'detach').map((m) => m.kind === 'detach' && m.sessionId), [7n, 8n], 'the sessions live on, unowned');
    const refused = r.open();
    r.core.receive(refused.conn, r.connectFrame(), true);
    const f = refused.frames[0];
    assert.ok(f && f.kind === 'closing' && f.code === 'CONNECTIONLOSS' && /not serving: looking for a leader/.test(f.reason));
    assert.equal(r.toMain.filter((m) => m.kind === 'attach').length, 2, 'no attach asked while not serving');
    r.core.setServing(true, 'following leader 2');
    r.session(9n);
  });

  test('an attach answered after serving stopped leaves the session unowned', () => {
    const r = rig();
    const c = r.open();
    r.core.receive(c.conn, r.connectFrame(), true);
    const attach = r.toMain.find((m) => m.kind === 'attach');
    assert.ok(attach && attach.kind === 'attach');
    r.core.setServing(false, 'lost the quorum');
    r.core.attachAnswer({ kind: 'attached', reqId: attach.reqId, sessionId: 7n, password: new Uint8Array(16), timeoutMs: 10_000 });
    assert.equal(c.frames.filter((f) => f.kind === 'connected').length, 0);
    assert.ok(r.toMain.some((m) => m.kind === 'detach' && m.sessionId === 7n));
  });

  test('a new tree on the commit port replaces the old one; later reads and handshakes use it', () => {
    const r = rig(withNode('/a', 'old tree'));
    const next = withNode('/a', 'snap');
    commitSetData(next, 40n, 0, 0n, '/a', 'snap at 40');
    r.trees.set(next.buffer, next);
    const s = r.session(7n);
    r.core.commit({ kind: 'tree', buffer: next.buffer });
    assert.equal(r.core.tree(), next);
    r.send(s.conn, { opcode: Opcode.getData, xid: 1, path: '/a', watch: false });
    const f = s.frames[0];
    assert.ok(f && f.kind === 'response' && f.zxid === 40n);
    assert.equal(dec((f.payload as unknown[])[0]), 'snap at 40');
    const c = r.open();
    r.core.receive(c.conn, r.connectFrame(0n, 40n), true);
    assert.equal(c.frames.length, 0, 'a client that saw zxid 40 is accepted by the new tree');
    // A commit on the new tree: the engine follows it from the new tree's zxid.
    r.core.commit(commitSetData(next, 41n, 0, 0n, '/a', 'after'));
    r.send(s.conn, { opcode: Opcode.exists, xid: 2, path: '/a', watch: false });
    const g = s.frames[1];
    assert.ok(g && g.kind === 'response' && g.zxid === 41n);
  });

  test('the codec: a text frame, a request before the handshake and a second ConnectRequest are malformed', () => {
    const r = rig();
    const a = r.open();
    r.core.receive(a.conn, new Uint8Array([1, 2, 3]), false);
    const b = r.open();
    r.core.receive(b.conn, encodeRequest({ opcode: Opcode.exists, xid: 1, path: '/', watch: false }), true);
    const c = r.session(7n);
    r.core.receive(c.conn, r.connectFrame(), true);
    for (const [x, why] of [[a, /text frame/], [b, /first frame/], [c, /after the handshake/]] as const) {
      const f = x.frames.at(-1);
      assert.ok(f && f.kind === 'closing' && f.code === 'MARSHALLINGERROR' && why.test(f.reason), `${why}`);
    }
    assert.equal(r.core.figures.malformed, 3);
  });

  test('closeIdle uses the injected clock: a silent connection is closed, the session lives on', () => {
    const r = rig();
    const s = r.session(7n);
    r.core.closeIdle(1_000 + 10_000);
    assert.equal(s.ended(), false);
    r.core.closeIdle(1_000 + 10_001);
    assert.ok(s.ended());
    assert.ok(r.toMain.some((m) => m.kind === 'detach' && m.sessionId === 7n));
  });
});
