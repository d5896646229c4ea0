// The public data types of CLIENT_API.md, shared by client, protocol and server.
import type { ErrorCode } from './errors.js';

export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctime: number; // ms since epoch
  mtime: number; // ms since epoch
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint; // 0n if not ephemeral
  dataLength: number;
  numChildren: number;
}

export interface ACL {
  perms: number; // READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16
  scheme: string;
  id: string;
}

export const Perms = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: Perms.ALL, scheme: 'world', id: 'anyone' }];
export const CREATOR_ALL_ACL: ACL[] = [{ perms: Perms.ALL, scheme: 'auth', id: '' }];
export const READ_ACL_UNSAFE: ACL[] = [{ perms: Perms.READ, scheme: 'world', id: 'anyone' }];

export type CreateMode =
  | 'persistent'
  | 'persistent_sequential'
  | 'ephemeral'
  | 'ephemeral_sequential'
  | 'container'
  | 'persistent_with_ttl'
  | 'persistent_sequential_with_ttl';

export const createModes: readonly CreateMode[] = [
  'persistent',
  'persistent_sequential',
  'ephemeral',
  'ephemeral_sequential',
  'container',
  'persistent_with_ttl',
  'persistent_sequential_with_ttl',
];

export type WatchedEventType =
  | 'created'
  | 'deleted'
  | 'dataChanged'
  | 'childrenChanged'
  | 'dataWatchRemoved'
  | 'childWatchRemoved'
  | 'persistentWatchRemoved';

export interface WatchedEvent {
  type: WatchedEventType;
  path: string; // relative to the chroot, as the caller named it
}

export type Watcher = (event: WatchedEvent) => void;

export type Data = Uint8Array | string;

export interface CreateOptions {
  mode?: CreateMode;
  acl?: ACL[];
  ttlMs?: number;
}

export type Op =
  | { op: 'create'; path: string; data?: Data; mode?: CreateMode; acl?: ACL[]; ttlMs?: number }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'setData'; path: string; data: Data; version?: number }
  | { op: 'check'; path: string; version: number };

export type OpResult =
  | { op: 'create'; path: string }
  | { op: 'delete' }
  | { op: 'setData'; stat: Stat }
  | { op: 'check' }
  | { op: 'error'; code: ErrorCode | 'OK' };

/**
 * A multi op's result as the server keeps it: a create also carries the new node's stat. The jute
 * listener answers container and TTL creates with it (Create2Response, as ZooKeeper 3.8); the
 * native protocol's OpResult has no stat and does not send it. Not public (src/index.ts does not
 * export it).
 */
export type ServerOpResult = Exclude<OpResult, { op: 'create' }> | { op: 'create'; path: string; stat: Stat };

export type WatchMode = 'persistent' | 'persistent_recursive';
export type WatcherType = 'data' | 'children' | 'any';
