// The Zab core's public surface for the composition root.
export type * from './api.js';
export { createZabCore, type ZabCoreOptions } from './core.js';
export { epochOf, makeZxid, PeerMessageError, validatePeerMessage, type PeerMessage } from './messages.js';
