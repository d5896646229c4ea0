// Bounds of the wire protocol that src/common/constants.ts does not (yet) hold, named with their
// unit last. Frame, data, path and ACL-count bounds come from constants.ts; the ones here only
// exist at the protocol edge. Relationships are asserted when the module loads.
import { assert } from '../common/assert.js';
import { constants } from '../common/constants.js';

export const protocolLimits = {
  protocolVersion: 1, // the version this code speaks; a ConnectRequest carries the client's
  passwordBytes: 16, // session password, fixed length (ZooKeeper uses 16 too)
  xidMax: 0xffff_ffff, // xid is a u32 client counter
  sessionTimeoutMsMax: 0x7fff_ffff, // asked-for timeout must fit an int32 (the server clamps it)
  versionMax: 0x7fff_ffff, // znode versions are int32; -1 means "any version"
  ttlMsMax: 2 ** 40 - 1, // ZooKeeper's TTL bound (40 bits of milliseconds, ~34 years)
  multiOpsMax: 10_000, // ops in one multi (the frame bound limits total bytes anyway)
  setWatchesPathsMax: constants.watchesPerSessionMax, // paths in one setWatches, all lists together
  aclSchemeBytesMax: 64,
  aclIdBytesMax: 1_024,
  authCredentialBytesMax: 4_096,
  errorMessageBytesMax: 4_096, // human-readable reason strings sent by the server
  childrenListedMax: constants.childrenListedMax,
  aclEntriesMax: constants.aclEntriesMax,
  frameBytesMax: constants.frameBytesMax,
} as const;

assert(protocolLimits.passwordBytes > 0, 'password has bytes');
assert(protocolLimits.ttlMsMax <= Number.MAX_SAFE_INTEGER, 'ttl fits a double exactly');
assert(protocolLimits.multiOpsMax < protocolLimits.frameBytesMax, 'each multi op takes at least a byte');
