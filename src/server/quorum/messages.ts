// Peer messages of the Zab core: plain objects that msgpackr (useRecords:false,
// int64AsType:'bigint', mapsAsObjects) round-trips. The core builds them; the transport encodes
// them; validatePeerMessage() turns what the transport decoded back into a typed message, checking
// every field (a malformed frame closes that link only, as a bad client frame closes its
// connection). zxids may arrive as bigint or as a safe integer: msgpack writes small values short.
import { constants } from '../../common/constants.js';
import type { WriteRequest, WriteResult } from '../pipeline/api.js';
import type { Origin, ServerState } from './api.js';
import { PeerMessageError } from './peer-error.js';
import { validateWriteRequest, validateWriteResult } from './validate-write.js';

/** A vote of fast leader election, totally ordered by (peerEpoch, zxid, leader). */
export interface Vote {
  leader: number;
  zxid: bigint;
  peerEpoch: number;
}

export type PeerMessage =
  // ---- election (any server to any server) ----
  /** A notification: the sender's current vote, its logical clock and what it is doing now. */
  | { t: 'vote'; vote: Vote; electionEpoch: number; state: ServerState }
  // ---- discovery ----
  /** Learner -> leader. `historyBase`: the oldest zxid the learner's log can be truncated to.
   *  `attempt` names the learner's term with this leader: its re-sends carry the same one. */
  | { t: 'followerInfo'; acceptedEpoch: number; lastZxid: bigint; historyBase: bigint; observer: boolean; attempt: number }
  | { t: 'leaderInfo'; epoch: number }
  | { t: 'ackEpoch'; currentEpoch: number; lastZxid: bigint }
  // ---- synchronisation (leader -> learner, before NEWLEADER) ----
  /** Proposals (and commits) after `zxid` follow; the learner's log is a prefix of the leader's. */
  | { t: 'diff'; zxid: bigint }
  /** Drop every log record after `zxid`; proposals after it follow. */
  | { t: 'trunc'; zxid: bigint }
  /** One chunk of the image at `zxid`; `last` closes it. Proposals after zxid follow. */
  | { t: 'snap'; zxid: bigint; offset: number; totalBytes: number; chunk: Uint8Array; last: boolean }
  /** Learner -> leader: sync bytes (SNAP chunk bytes, DIFF txn bytes + overhead) received so
   *  far in this sync, cumulative; each one lets the leader send that much more. */
  | { t: 'syncAck'; bytes: number }
  | { t: 'newLeader'; epoch: number; zxid: bigint }
  /** Leader -> learner: sync is over, everything through `committed` is committed: serve. */
  | { t: 'upToDate'; committed: bigint }
  // ---- broadcast ----
  | { t: 'proposal'; zxid: bigint; txn: Uint8Array; origin: Origin | null }
  /** Consecutive proposals zxid, zxid+1, ... in one message: the broadcast's unit (one frame,
   *  one decode and one log append on the follower for a whole proposed batch). */
  | { t: 'proposals'; zxid: bigint; txns: Uint8Array[]; origins: (Origin | null)[] }
  | { t: 'commit'; zxid: bigint }
  /** Leader -> observer: a committed txn (proposal and commit in one). */
  | { t: 'inform'; zxid: bigint; txn: Uint8Array; origin: Origin | null }
  /** Learner -> leader: logged (fsynced) everything through zxid; also the NEWLEADER ack. */
  | { t: 'ack'; zxid: bigint }
  | { t: 'ping'; committed: bigint }
  /** Learner -> leader: the sessions its clients touched since the previous pong. */
  | { t: 'pong'; sessionIds: bigint[] }
  // ---- forwarded writes ----
  | { t: 'request'; origin: Origin; request: WriteRequest }
  | { t: 'reply'; origin: Origin; afterZxid: bigint; result: WriteResult };

export type PeerMessageType = PeerMessage['t'];

export { PeerMessageError };

function fail(what: string, why: string): never {
  throw new PeerMessageError(`peer message ${what}: ${why}`);
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) fail(what, 'expected a map');
  return v as Obj;
}

export function int(v: unknown, what: string, min: number, max: number): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) fail(what, `expected an integer, got ${typeof v}`);
  if (n < min || n > max) fail(what, `${n} outside [${min}, ${max}]`);
  return n;
}

const u64Max = 2n ** 64n - 1n;
const epochMax = 0xffff_ffff;

/** A zxid or session id: a non-negative 64-bit integer, as bigint or safe integer. */
export function u64(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > u64Max) fail(what, 'outside 64 bits');
    return v;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return fail(what, `expected a 64-bit integer, got ${typeof v}`);
}

/** Session ids are signed 64-bit on the wire (ZooKeeper's long). */
export function i64(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') {
    if (v < -(2n ** 63n) || v > u64Max) fail(what, 'outside 64 bits');
    return v;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return fail(what, `expected a 64-bit integer, got ${typeof v}`);
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') fail(what, 'expected a boolean');
  return v;
}

function bytes(v: unknown, what: string, max: number): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(what, 'expected binary');
  if (v.byteLength > max) fail(what, `${v.byteLength} bytes, over ${max}`);
  return v;
}

const serverStates: readonly ServerState[] = ['looking', 'following', 'leading', 'observing'];

function peerId(v: unknown, what: string): number {
  return int(v, what, 1, constants.zabPeerIdMax);
}

function epoch(v: unknown, what: string): number {
  return int(v, what, 0, epochMax);
}

function vote(v: unknown): Vote {
  const o = obj(v, 'vote.vote');
  return { leader: peerId(o['leader'], 'vote.leader'), zxid: u64(o['zxid'], 'vote.zxid'), peerEpoch: epoch(o['peerEpoch'], 'vote.peerEpoch') };
}

export function validateOrigin(v: unknown, what: string): Origin {
  const o = obj(v, what);
  return { serverId: peerId(o['serverId'], `${what}.serverId`), sessionId: i64(o['sessionId'], `${what}.sessionId`), tag: int(o['tag'], `${what}.tag`, -(2 ** 53), 2 ** 53) };
}

function originOrNull(v: unknown, what: string): Origin | null {
  return v === null || v === undefined ? null : validateOrigin(v, what);
}

const txnBytesMax = constants.logRecordPayloadBytesMax;

type Validator = (o: Obj) => PeerMessage;

const validators: Record<PeerMessageType, Validator> = {
  vote: (o) => {
    const state = o['state'];
    if (typeof state !== 'string' || !serverStates.includes(state as ServerState)) fail('vote.state', 'not a server state');
    return { t: 'vote', vote: vote(o['vote']), electionEpoch: epoch(o['electionEpoch'], 'vote.electionEpoch'), state: state as ServerState };
  },
  followerInfo: (o) => ({
    t: 'followerInfo',
    acceptedEpoch: epoch(o['acceptedEpoch'], 'followerInfo.acceptedEpoch'),
    lastZxid: u64(o['lastZxid'], 'followerInfo.lastZxid'),
    historyBase: u64(o['historyBase'], 'followerInfo.historyBase'),
    observer: bool(o['observer'], 'followerInfo.observer'),
    attempt: int(o['attempt'], 'followerInfo.attempt', 0, Number.MAX_SAFE_INTEGER),
  }),
  leaderInfo: (o) => ({ t: 'leaderInfo', epoch: epoch(o['epoch'], 'leaderInfo.epoch') }),
  ackEpoch: (o) => ({ t: 'ackEpoch', currentEpoch: epoch(o['currentEpoch'], 'ackEpoch.currentEpoch'), lastZxid: u64(o['lastZxid'], 'ackEpoch.lastZxid') }),
  diff: (o) => ({ t: 'diff', zxid: u64(o['zxid'], 'diff.zxid') }),
  trunc: (o) => ({ t: 'trunc', zxid: u64(o['zxid'], 'trunc.zxid') }),
  snap: (o) => {
    const totalBytes = int(o['totalBytes'], 'snap.totalBytes', 0, constants.zabSnapImageBytesMax);
    const offset = int(o['offset'], 'snap.offset', 0, totalBytes);
    const chunk = bytes(o['chunk'], 'snap.chunk', constants.zabSnapChunkBytes);
    if (offset + chunk.byteLength > totalBytes) fail('snap.chunk', 'past the image end');
    const last = bool(o['last'], 'snap.last');
    if (last && offset + chunk.byteLength !== totalBytes) fail('snap.last', 'the image is not complete');
    return { t: 'snap', zxid: u64(o['zxid'], 'snap.zxid'), offset, totalBytes, chunk, last };
  },
  syncAck: (o) => ({ t: 'syncAck', bytes: int(o['bytes'], 'syncAck.bytes', 0, Number.MAX_SAFE_INTEGER) }),
  newLeader: (o) => ({ t: 'newLeader', epoch: epoch(o['epoch'], 'newLeader.epoch'), zxid: u64(o['zxid'], 'newLeader.zxid') }),
  upToDate: (o) => ({ t: 'upToDate', committed: u64(o['committed'], 'upToDate.committed') }),
  proposal: (o) => ({ t: 'proposal', zxid: u64(o['zxid'], 'proposal.zxid'), txn: bytes(o['txn'], 'proposal.txn', txnBytesMax), origin: originOrNull(o['origin'], 'proposal.origin') }),
  proposals: (o) => {
    const zxid = u64(o['zxid'], 'proposals.zxid');
    const txns = o['txns'];
    const origins = o['origins'];
    if (!Array.isArray(txns) || !Array.isArray(origins)) fail('proposals', 'expected arrays of txns and origins');
    if (txns.length === 0 || txns.length > constants.zabProposalsPerMessageMax) fail('proposals.txns', `${txns.length} txns, not in [1, ${constants.zabProposalsPerMessageMax}]`);
    if (origins.length !== txns.length) fail('proposals.origins', `${origins.length} origins for ${txns.length} txns`);
    if (counterOf(zxid) === 0 || counterOf(zxid) + txns.length - 1 > 0xffff_ffff) fail('proposals.zxid', 'the run leaves its epoch');
    return {
      t: 'proposals',
      zxid,
      txns: txns.map((v, i) => bytes(v, `proposals.txns[${i}]`, txnBytesMax)),
      origins: origins.map((v, i) => originOrNull(v, `proposals.origins[${i}]`)),
    };
  },
  commit: (o) => ({ t: 'commit', zxid: u64(o['zxid'], 'commit.zxid') }),
  inform: (o) => ({ t: 'inform', zxid: u64(o['zxid'], 'inform.zxid'), txn: bytes(o['txn'], 'inform.txn', txnBytesMax), origin: originOrNull(o['origin'], 'inform.origin') }),
  ack: (o) => ({ t: 'ack', zxid: u64(o['zxid'], 'ack.zxid') }),
  ping: (o) => ({ t: 'ping', committed: u64(o['committed'], 'ping.committed') }),
  pong: (o) => {
    const ids = o['sessionIds'];
    if (!Array.isArray(ids)) fail('pong.sessionIds', 'expected an array');
    if (ids.length > constants.zabSessionsPerPongMax) fail('pong.sessionIds', `more than ${constants.zabSessionsPerPongMax}`);
    return { t: 'pong', sessionIds: ids.map((v, i) => i64(v, `pong.sessionIds[${i}]`)) };
  },
  request: (o) => ({ t: 'request', origin: validateOrigin(o['origin'], 'request.origin'), request: validateWriteRequest(o['request']) }),
  reply: (o) => ({
    t: 'reply',
    origin: validateOrigin(o['origin'], 'reply.origin'),
    afterZxid: u64(o['afterZxid'], 'reply.afterZxid'),
    result: validateWriteResult(o['result']),
  }),
};

/** Turn a decoded frame into a PeerMessage; throws PeerMessageError on anything malformed. */
export function validatePeerMessage(x: unknown): PeerMessage {
  const o = obj(x, 'frame');
  const t = o['t'];
  if (typeof t !== 'string' || !Object.hasOwn(validators, t)) fail('t', `unknown message type ${JSON.stringify(typeof t === 'string' ? t.slice(0, 40) : typeof t)}`);
  return validators[t as PeerMessageType](o);
}

// ---- zxids: the high 32 bits are the epoch, the low 32 a counter within it (as ZooKeeper) ----
export function epochOf(zxid: bigint): number {
  return Number(zxid >> 32n);
}
export function counterOf(zxid: bigint): number {
  return Number(zxid & 0xffff_ffffn);
}
export function makeZxid(epoch: number, counter: number): bigint {
  return (BigInt(epoch) << 32n) | BigInt(counter);
}

/** The total order of votes: (peerEpoch, zxid, leader id). */
export function voteGreater(a: Vote, b: Vote): boolean {
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch > b.peerEpoch;
  if (a.zxid !== b.zxid) return a.zxid > b.zxid;
  return a.leader > b.leader;
}

export function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch;
}
