// Numbers on the wire. Opcodes, create modes, event types and error codes reuse ZooKeeper's own
// numbers so that a ZooKeeper user reading a frame dump recognises them; all of them fit in a
// one-byte MessagePack fixint except a few (100+, -101..) that take two bytes.
import { errorCodes, type ErrorCode } from '../common/errors.js';
import type { CreateMode, WatchedEventType, WatchMode } from '../common/types.js';

/** First element of every client -> server frame. */
export const Opcode = {
  create: 1, // returns the created path
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  check: 13, // only inside multi
  multi: 14,
  create2: 15, // create, returns [path, stat]
  checkWatches: 17,
  removeWatches: 18,
  addAuth: 100,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches: 105,
  addWatch: 106,
  connect: -10, // handshake, the first frame of a connection (ZooKeeper's createSession)
  close: -11, // ends the session (ZooKeeper's closeSession)
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Opcodes allowed inside a multi. */
export const multiOpcodes: ReadonlySet<number> = new Set([Opcode.create, Opcode.delete, Opcode.setData, Opcode.check]);

/**
 * First element of every server -> client frame. A non-negative first element is the xid of a
 * Response; the negative values below are the other kinds.
 */
export const ServerKind = {
  watch: -1, // a watch notification (ZooKeeper sends notifications with xid -1)
  connected: -10, // handshake accepted
  closing: -11, // the server ends the connection (and says why) right after this frame
} as const;
export type ServerKind = (typeof ServerKind)[keyof typeof ServerKind];

/** ZooKeeper's CreateMode flags. */
export const createModeToWire: Readonly<Record<CreateMode, number>> = {
  persistent: 0,
  ephemeral: 1,
  persistent_sequential: 2,
  ephemeral_sequential: 3,
  container: 4,
  persistent_with_ttl: 5,
  persistent_sequential_with_ttl: 6,
};
export const wireToCreateMode: readonly CreateMode[] = [
  'persistent',
  'ephemeral',
  'persistent_sequential',
  'ephemeral_sequential',
  'container',
  'persistent_with_ttl',
  'persistent_sequential_with_ttl',
];

export function isSequentialMode(mode: CreateMode): boolean {
  return mode === 'persistent_sequential' || mode === 'ephemeral_sequential' || mode === 'persistent_sequential_with_ttl';
}
export function isTtlMode(mode: CreateMode): boolean {
  return mode === 'persistent_with_ttl' || mode === 'persistent_sequential_with_ttl';
}

/** ZooKeeper's Watcher.Event.EventType numbers. Only 1..4 travel on the wire; 5..7 are client-local. */
export const eventTypeToWire: Readonly<Record<WatchedEventType, number>> = {
  created: 1,
  deleted: 2,
  dataChanged: 3,
  childrenChanged: 4,
  dataWatchRemoved: 5,
  childWatchRemoved: 6,
  persistentWatchRemoved: 7,
};
export const wireToEventType: readonly (WatchedEventType | undefined)[] = [
  undefined,
  'created',
  'deleted',
  'dataChanged',
  'childrenChanged',
];

/** ZooKeeper's AddWatchMode numbers. */
export const watchModeToWire: Readonly<Record<WatchMode, number>> = { persistent: 0, persistent_recursive: 1 };
export const wireToWatchMode: readonly WatchMode[] = ['persistent', 'persistent_recursive'];

/**
 * Which of a session's server-side watch registrations on one path a checkWatches/removeWatches
 * names. A bit set, so the client can drop exactly the kinds for which it has no watcher left.
 */
export const WatchBits = {
  child: 1, // one-shot child watch (getChildren)
  data: 2, // one-shot data watch (getData, and exists on an existing or missing node)
  persistent: 4,
  persistentRecursive: 8,
} as const;
export const watchBitsAll = 15;

const wireToErrorCode = new Map<number, ErrorCode | 'OK'>();
for (const [name, value] of Object.entries(errorCodes)) wireToErrorCode.set(value, name as ErrorCode | 'OK');

/** ZooKeeper's numeric code of an error name. */
export function errorCodeToWire(code: ErrorCode | 'OK'): number {
  return errorCodes[code];
}
/** The error name of a numeric code, or undefined if the number is no known code. */
export function wireToErrorCodeName(value: number): ErrorCode | 'OK' | undefined {
  return wireToErrorCode.get(value);
}
