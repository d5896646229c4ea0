// Field readers for decoded MessagePack arrays: each turns an `unknown` element into a typed
// value or throws ProtocolError naming the field. These are the parse boundary of the protocol.
import { pathProblem } from '../common/paths.js';
import type { ACL, Stat } from '../common/types.js';
import { ProtocolError } from './errors.js';
import { protocolLimits } from './limits.js';

const u32Max = 0xffff_ffff;
const int64Min = -(2n ** 63n);
const uint64Max = 2n ** 64n - 1n;
const utf8 = new TextEncoder();

export function fail(what: string, why: string): never {
  throw new ProtocolError(`${what}: ${why}`);
}

export function expectArray(value: unknown, what: string, minLength: number, maxLength: number): unknown[] {
  if (!Array.isArray(value)) fail(what, 'expected an array');
  if (value.length < minLength) fail(what, `expected at least ${minLength} elements, got ${value.length}`);
  if (value.length > maxLength) fail(what, `expected at most ${maxLength} elements, got ${value.length}`);
  return value;
}

/** An integer in [min, max]; accepts any MessagePack integer (a bigint too) or an integral float. */
export function int(value: unknown, what: string, min: number, max: number): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else fail(what, `expected an integer, got ${typeof value}`);
  if (!Number.isInteger(n)) fail(what, `expected an integer, got ${n}`);
  if (n < min || n > max) fail(what, `${n} outside [${min}, ${max}]`);
  return n;
}

export function u32(value: unknown, what: string): number {
  return int(value, what, 0, u32Max);
}

/** A 64-bit field (zxid, session id): an int64/uint64, or any integral number below 2^53. */
export function int64(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value < int64Min || value > uint64Max) fail(what, 'outside 64 bits');
    return value;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return fail(what, `expected a 64-bit integer, got ${typeof value === 'number' ? value : typeof value}`);
}

export function bool(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') fail(what, `expected a boolean, got ${typeof value}`);
  return value;
}

export function str(value: unknown, what: string, bytesMax: number): string {
  if (typeof value !== 'string') fail(what, `expected a string, got ${typeof value}`);
  // UTF-16 length * 3 bounds the UTF-8 length, so the exact count is only needed near the bound.
  if (value.length * 3 > bytesMax && Buffer.byteLength(value, 'utf8') > bytesMax) fail(what, `longer than ${bytesMax} bytes`);
  return value;
}

export function bytes(value: unknown, what: string, bytesMax: number): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(what, `expected binary, got ${typeof value}`);
  if (value.byteLength > bytesMax) fail(what, `${value.byteLength} bytes, over the limit of ${bytesMax}`);
  return value;
}

export function path(value: unknown, what: string, sequential = false): string {
  const problem = pathProblem(value, sequential);
  if (problem !== null) fail(what, `invalid path ${JSON.stringify(typeof value === 'string' ? value.slice(0, 100) : typeof value)}: ${problem}`);
  return value as string;
}

export function pathList(value: unknown, what: string, max: number): string[] {
  const arr = expectArray(value, what, 0, max);
  for (let i = 0; i < arr.length; i++) path(arr[i], what);
  return arr as string[];
}

export function version(value: unknown, what: string): number {
  return int(value, what, -1, protocolLimits.versionMax);
}

/** [[perms, scheme, id], ...]; shape only — the server judges schemes and ids (INVALIDACL). */
export function acl(value: unknown, what: string): ACL[] {
  const arr = expectArray(value, what, 0, protocolLimits.aclEntriesMax);
  const out: ACL[] = new Array<ACL>(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const e = expectArray(arr[i], what, 3, 3);
    out[i] = {
      perms: int(e[0], `${what} perms`, 0, 31),
      scheme: str(e[1], `${what} scheme`, protocolLimits.aclSchemeBytesMax),
      id: str(e[2], `${what} id`, protocolLimits.aclIdBytesMax),
    };
  }
  return out;
}

export function aclToWire(list: readonly ACL[]): [number, string, string][] {
  const out: [number, string, string][] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!;
    out[i] = [a.perms, a.scheme, a.id];
  }
  return out;
}

/** A Stat's 11-element wire array. ctime/mtime stay doubles (msgpackr writes them as float64). */
export type WireStat = [bigint, bigint, bigint, number, number, number, number, number, bigint, number, number];

export function statToWire(s: Stat): WireStat {
  return [s.czxid, s.mzxid, s.pzxid, s.ctime, s.mtime, s.version, s.cversion, s.aversion, s.ephemeralOwner, s.dataLength, s.numChildren];
}

const int32Max = 0x7fff_ffff;
const int32Min = -0x8000_0000;

export function stat(value: unknown, what = 'stat'): Stat {
  const a = expectArray(value, what, 11, 11);
  return {
    czxid: int64(a[0], 'stat.czxid'),
    mzxid: int64(a[1], 'stat.mzxid'),
    pzxid: int64(a[2], 'stat.pzxid'),
    ctime: int(a[3], 'stat.ctime', 0, Number.MAX_SAFE_INTEGER),
    mtime: int(a[4], 'stat.mtime', 0, Number.MAX_SAFE_INTEGER),
    version: int(a[5], 'stat.version', int32Min, int32Max),
    cversion: int(a[6], 'stat.cversion', int32Min, int32Max),
    aversion: int(a[7], 'stat.aversion', int32Min, int32Max),
    ephemeralOwner: int64(a[8], 'stat.ephemeralOwner'),
    dataLength: int(a[9], 'stat.dataLength', 0, int32Max),
    numChildren: int(a[10], 'stat.numChildren', 0, int32Max),
  };
}

/** Text in, UTF-8 bytes out; bytes pass through. */
export function toBytes(data: Uint8Array | string | undefined): Uint8Array {
  if (data === undefined) return emptyBytes;
  if (typeof data === 'string') return utf8.encode(data);
  return data;
}
export const emptyBytes = new Uint8Array(0);
