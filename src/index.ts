// The public client API (CLIENT_API.md): what `import ... from 'zookooper'` gives.
export { connect, ZookooperClient, type ClientState, type ConnectOptions, type AuthInfo, type TlsOptions } from './client/index.js';
export { ZookooperError, errorCodes, type ErrorCode } from './common/errors.js';
export {
  Perms,
  OPEN_ACL_UNSAFE,
  CREATOR_ALL_ACL,
  READ_ACL_UNSAFE,
  type ACL,
  type Stat,
  type CreateMode,
  type CreateOptions,
  type Data,
  type Op,
  type OpResult,
  type WatchedEvent,
  type WatchedEventType,
  type Watcher,
  type WatcherType,
  type WatchMode,
} from './common/types.js';
export * from './recipes/index.js';
