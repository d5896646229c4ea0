// ZooKeeper's numbers on its own wire (zookeeper.jute, ZooDefs.OpCode, ClientCnxn's special xids,
// Watcher.Event). Kept apart from src/protocol/codes.ts: that file is this server's MessagePack
// protocol, which reuses most of these numbers but not all (its setWatches is 105 for both lists).

/** ZooDefs.OpCode. */
export const JuteOp = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

/** Opcodes ZooKeeper knows that this server answers with UNIMPLEMENTED (the connection stays). */
export const juteUnimplemented: ReadonlySet<number> = new Set([
  JuteOp.reconfig,
  JuteOp.deleteContainer,
  // A standalone check: ZooKeeper 3.8.0 logs it as a txn it then cannot load ("Unsupported Txn
  // with type=13" at the next start, seen on this machine); inside a multi it is served.
  JuteOp.check,
]);

/** ClientCnxn's reserved xids. */
export const JuteXid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

/** Watcher.Event.KeeperState. */
export const KeeperState = { disconnected: 0, syncConnected: 3, authFailed: 4, connectedReadOnly: 5, expired: -112 } as const;

/** Watcher.Event.EventType of the four events that travel. */
export const juteEventType = { created: 1, deleted: 2, dataChanged: 3, childrenChanged: 4 } as const;

/** Watcher.WatcherType (checkWatches / removeWatches). */
export const JuteWatcherType = { children: 1, data: 2, any: 3, persistent: 4, persistentRecursive: 5 } as const;

/** The protocol version ZooKeeper's clients and servers send in Connect{Request,Response}. */
export const juteProtocolVersion = 0;
