// ZooKeeper's encoding of the 64-bit ephemeralOwner field (server/EphemeralType.java, extended
// types enabled, which zookooper always is). The tree stores the raw value; clients see
// clientEphemeralOwner() of it, as ZooKeeper's DataNode.copyStat does (verified against 3.8.0:
// a container or TTL node reports ephemeralOwner 0x0, see ZK-FACTS.md).
//
//   0                                  no owner (persistent)
//   0x8000_0000_0000_0000              container
//   0xFF00_0000_0000_0000 | ttlMs      TTL node (bits 40..55 zero: the "TTL" extended type)
//   anything else                      the session id of an ephemeral node
import { assert } from '../../common/assert.js';
import type { Stat } from '../../common/types.js';

export const containerOwner = 0x8000_0000_0000_0000n;
const extendedMask = 0xff00_0000_0000_0000n;
const extendedBitsMask = 0x00ff_ff00_0000_0000n;
const extendedValueMask = 0x0000_00ff_ffff_ffffn;

/** ZooKeeper's EphemeralType.TTL.maxValue(): 1099511627775 ms (about 34 years). */
export const ttlMsMax = 0xff_ffff_ffff;

export type OwnerKind = 'none' | 'session' | 'container' | 'ttl';

export function ownerKind(raw: bigint): OwnerKind {
  if (raw === 0n) return 'none';
  if (raw === containerOwner) return 'container';
  if ((raw & extendedMask) === extendedMask) {
    // Extended-type bits other than TTL's (0) are reserved; ZooKeeper throws on them too.
    assert((raw & extendedBitsMask) === 0n, () => `unknown extended ephemeralOwner type 0x${raw.toString(16)}`);
    return 'ttl';
  }
  return 'session';
}

/** The raw owner of a TTL node. ttlMs must be in [1, ttlMsMax] (validated at prep). */
export function ttlOwner(ttlMs: number): bigint {
  assert(Number.isInteger(ttlMs) && ttlMs >= 1 && ttlMs <= ttlMsMax, () => `ttlMs out of range: ${ttlMs}`);
  return extendedMask | BigInt(ttlMs);
}

export function ownerTtlMs(raw: bigint): number {
  assert(ownerKind(raw) === 'ttl', 'not a TTL owner');
  return Number(raw & extendedValueMask);
}

/** A session id must not be mistaken for a container or TTL marker (ZooKeeper reserves server id 255). */
export function isValidSessionOwner(sessionId: bigint): boolean {
  return sessionId > 0n && sessionId <= 0xffff_ffff_ffff_ffffn && ownerKindSafe(sessionId) === 'session';
}

function ownerKindSafe(raw: bigint): OwnerKind | 'reserved' {
  if ((raw & extendedMask) === extendedMask && (raw & extendedBitsMask) !== 0n) return 'reserved';
  return ownerKind(raw);
}

/** What a client sees: container and TTL markers read as 0 (DataNode.getClientEphemeralOwner). */
export function clientEphemeralOwner(raw: bigint): bigint {
  return ownerKindSafe(raw) === 'session' ? raw : 0n;
}

/** Cheap path for the common case: returns `stat` itself when nothing changes. */
export function clientStat(stat: Stat): Stat {
  const owner = clientEphemeralOwner(stat.ephemeralOwner);
  return owner === stat.ephemeralOwner ? stat : { ...stat, ephemeralOwner: owner };
}
