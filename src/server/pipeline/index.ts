// The write pipeline's public surface (see api.ts for the request/result types).
export * from './api.js';
export { Pipeline } from './pipeline.js';
export { checkAcl, digestAuthId, ipAclValid, ipMatches, validateAcl } from './acl.js';
export { clientEphemeralOwner, clientStat, containerOwner, ownerKind, ownerTtlMs, ttlMsMax, ttlOwner } from './owner.js';
export type { OwnerKind } from './owner.js';
export type { Txn, TxnOp } from './txn.js';
export { decodeTxn, encodeTxn } from './txn.js';
export { sequenceSuffix } from './prep.js';
