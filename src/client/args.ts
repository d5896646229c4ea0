// Checks of the caller's arguments before anything is sent: each failure is a ZookooperError
// (BADARGUMENTS / INVALIDACL), as ZooKeeper's client throws before touching the wire.
import { ZookooperError } from '../common/errors.js';
import { pathProblem } from '../common/paths.js';
import { createModes, type ACL, type CreateMode, type Data } from '../common/types.js';
import { isTtlMode } from '../protocol/codes.js';
import { protocolLimits } from '../protocol/limits.js';

const utf8 = new TextEncoder();
const empty = new Uint8Array(0);

export function checkPath(path: unknown, sequential = false): string {
  const problem = pathProblem(path, sequential);
  if (problem !== null) {
    throw new ZookooperError('BADARGUMENTS', `invalid path ${JSON.stringify(path)}: ${problem}`, typeof path === 'string' ? path : undefined);
  }
  return path as string;
}

export function checkData(data: Data | undefined, dataBytesMax: number, path: string): Uint8Array {
  let bytes: Uint8Array;
  if (data === undefined || data === null) bytes = empty;
  else if (typeof data === 'string') bytes = utf8.encode(data);
  else if (data instanceof Uint8Array) bytes = data;
  else throw new ZookooperError('BADARGUMENTS', `data must be a Uint8Array or a string, got ${typeof data}`, path);
  if (bytes.byteLength > dataBytesMax) {
    throw new ZookooperError('BADARGUMENTS', `data is ${bytes.byteLength} bytes, over the limit of ${dataBytesMax}`, path);
  }
  return bytes;
}

export function checkVersion(version: unknown, path: string, what = 'version'): number {
  if (typeof version !== 'number' || !Number.isInteger(version) || version < -1 || version > protocolLimits.versionMax) {
    throw new ZookooperError('BADARGUMENTS', `${what} must be an integer in [-1, ${protocolLimits.versionMax}], got ${String(version)}`, path);
  }
  return version;
}

export function checkAcl(acl: unknown, path: string): ACL[] {
  if (!Array.isArray(acl) || acl.length === 0) throw new ZookooperError('INVALIDACL', 'ACL must be a non-empty array', path);
  if (acl.length > protocolLimits.aclEntriesMax) throw new ZookooperError('INVALIDACL', `ACL has more than ${protocolLimits.aclEntriesMax} entries`, path);
  for (const e of acl as unknown[]) {
    const a = e as Partial<ACL> | null;
    const ok =
      a !== null &&
      typeof a === 'object' &&
      typeof a.perms === 'number' &&
      Number.isInteger(a.perms) &&
      a.perms >= 0 &&
      a.perms <= 31 &&
      typeof a.scheme === 'string' &&
      a.scheme.length > 0 &&
      Buffer.byteLength(a.scheme) <= protocolLimits.aclSchemeBytesMax &&
      typeof a.id === 'string' &&
      Buffer.byteLength(a.id) <= protocolLimits.aclIdBytesMax;
    if (!ok) throw new ZookooperError('INVALIDACL', `bad ACL entry ${JSON.stringify(e)}`, path);
  }
  return acl as ACL[];
}

export function checkMode(mode: unknown, path: string): CreateMode {
  if (mode === undefined) return 'persistent';
  if (typeof mode !== 'string' || !(createModes as readonly string[]).includes(mode)) {
    throw new ZookooperError('BADARGUMENTS', `unknown create mode ${JSON.stringify(mode)}`, path);
  }
  return mode as CreateMode;
}

export function checkTtl(mode: CreateMode, ttlMs: unknown, path: string): number {
  if (isTtlMode(mode)) {
    if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > protocolLimits.ttlMsMax) {
      throw new ZookooperError('BADARGUMENTS', `mode ${mode} needs ttlMs in [1, ${protocolLimits.ttlMsMax}], got ${String(ttlMs)}`, path);
    }
    return ttlMs;
  }
  if (ttlMs !== undefined && ttlMs !== 0) throw new ZookooperError('BADARGUMENTS', `ttlMs is only for *_with_ttl modes, not ${mode}`, path);
  return 0;
}
