// Bounds of the wire protocol that src/common/constants.ts does not (yet) hold, named with their
// unit last. Frame, data, path and ACL-count bounds come from constants.ts; the ones here only
// exist at the protocol edge. Relationships are asserted when the module loads.
import { assert } from '../common/assert.js';
import { constants } from '../common/constants.js';

export const protocolLimits = {
  protocolVersion: 1, // the version this code speaks; a ConnectRequest carries the client's
  passwordBytes: constants.sessionPasswordBytes,
  xidMax: 0xffff_ffff, // xid is a u32 client counter
  sessionTimeoutMsMax: 0x7fff_ffff, // asked-for timeout must fit an int32 (the server clamps it)
  versionMax: 0x7fff_ffff, // znode versions are int32; -1 means "any version"
  ttlMsMax: constants.ttlMsMax,
  multiOpsMax: constants.multiOpsMax,
  setWatchesPathsMax: constants.watchesPerSessionMax, // paths in one setWatches, all lists together
  aclSchemeBytesMax: constants.aclSchemeBytesMax,
  aclIdBytesMax: constants.aclIdBytesMax,
  authCredentialBytesMax: constants.authCredentialBytesMax,
  errorMessageBytesMax: constants.errorMessageBytesMax,
  childrenListedMax: constants.childrenListedMax,
  aclEntriesMax: constants.aclEntriesMax,
  frameBytesMax: constants.frameBytesMax,
} as const;

assert(protocolLimits.passwordBytes > 0, 'password has bytes');
assert(protocolLimits.ttlMsMax <= Number.MAX_SAFE_INTEGER, 'ttl fits a double exactly');
assert(protocolLimits.multiOpsMax < protocolLimits.frameBytesMax, 'each multi op takes at least a byte');
