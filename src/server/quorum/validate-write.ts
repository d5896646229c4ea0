// Validation of the pipeline's WriteRequest / WriteResult as they travel between servers inside
// REQUEST and REPLY peer messages (plain objects, as the pipeline builds them). Another server is
// no more trusted than a client: every field is checked, with the client protocol's bounds.
import { constants } from '../../common/constants.js';
import { isErrorCode } from '../../common/errors.js';
import { pathProblem } from '../../common/paths.js';
import { createModes, type ACL, type CreateMode, type ServerOpResult, type Stat } from '../../common/types.js';
import type { AuthId, WriteOp, WriteRequest, WriteResult, WriteValue } from '../pipeline/api.js';
import { PeerMessageError } from './peer-error.js';

type Obj = Record<string, unknown>;

function fail(what: string, why: string): never {
  throw new PeerMessageError(`peer message ${what}: ${why}`);
}

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) fail(what, 'expected a map');
  return v as Obj;
}

function arr(v: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(v)) fail(what, 'expected an array');
  if (v.length > max) fail(what, `more than ${max} elements`);
  return v;
}

function int(v: unknown, what: string, min: number, max: number): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) fail(what, `expected an integer in [${min}, ${max}]`);
  return n;
}

function i64(v: unknown, what: string): bigint {
  if (typeof v === 'bigint' && v >= -(2n ** 63n) && v < 2n ** 64n) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return fail(what, 'expected a 64-bit integer');
}

function str(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string') fail(what, 'expected a string');
  if (v.length * 3 > max && Buffer.byteLength(v, 'utf8') > max) fail(what, `longer than ${max} bytes`);
  return v;
}

function bytes(v: unknown, what: string, max: number): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(what, 'expected binary');
  if (v.byteLength > max) fail(what, `over ${max} bytes`);
  return v;
}

function path(v: unknown, what: string): string {
  // Sequential creates carry the prefix path; the pipeline appends the counter.
  const problem = pathProblem(v, true);
  if (problem !== null) fail(what, `invalid path: ${problem}`);
  return v as string;
}

const versionMax = 0x7fff_ffff;
const version = (v: unknown, what: string): number => int(v, what, -1, versionMax);

function acl(v: unknown, what: string): ACL[] {
  return arr(v, what, 1_024).map((e, i) => {
    const o = obj(e, `${what}[${i}]`);
    return { perms: int(o['perms'], `${what}.perms`, 0, 31), scheme: str(o['scheme'], `${what}.scheme`, constants.aclSchemeBytesMax), id: str(o['id'], `${what}.id`, constants.aclIdBytesMax) };
  });
}

function op(v: unknown, what: string, depth: number): WriteOp {
  const o = obj(v, what);
  const type = o['type'];
  switch (type) {
    case 'create': {
      const mode = o['mode'];
      if (typeof mode !== 'string' || !createModes.includes(mode as CreateMode)) fail(`${what}.mode`, 'not a create mode');
      return { type, path: path(o['path'], `${what}.path`), data: bytes(o['data'], `${what}.data`, constants.dataBytesMax), mode: mode as CreateMode, acl: acl(o['acl'], `${what}.acl`), ttlMs: int(o['ttlMs'], `${what}.ttlMs`, -1, constants.ttlMsMax) };
    }
    case 'delete':
    case 'check':
      return { type, path: path(o['path'], `${what}.path`), version: version(o['version'], `${what}.version`) };
    case 'setData':
      return { type, path: path(o['path'], `${what}.path`), data: bytes(o['data'], `${what}.data`, constants.dataBytesMax), version: version(o['version'], `${what}.version`) };
    case 'setACL':
      return { type, path: path(o['path'], `${what}.path`), acl: acl(o['acl'], `${what}.acl`), version: version(o['version'], `${what}.version`) };
    case 'multi':
      if (depth > 0) fail(what, 'a multi inside a multi');
      return { type, ops: arr(o['ops'], `${what}.ops`, constants.multiOpsMax).map((x, i) => op(x, `${what}.ops[${i}]`, depth + 1)) };
    case 'sync':
      return { type, path: path(o['path'], `${what}.path`) };
    case 'getEphemerals':
      return { type, prefix: str(o['prefix'], `${what}.prefix`, constants.pathBytesMax) };
    case 'createSession':
      return { type, timeoutMs: int(o['timeoutMs'], `${what}.timeoutMs`, 0, 2 ** 31 - 1), password: bytes(o['password'], `${what}.password`, constants.sessionPasswordBytes) };
    case 'closeSession':
      return { type };
    case 'deleteContainer':
      return { type, path: path(o['path'], `${what}.path`) };
    default:
      return fail(`${what}.type`, 'unknown write op');
  }
}

function authIds(v: unknown): AuthId[] {
  return arr(v, 'request.authIds', constants.authIdsPerSessionMax + 2).map((e, i) => {
    const o = obj(e, `request.authIds[${i}]`);
    return { scheme: str(o['scheme'], 'authId.scheme', constants.aclSchemeBytesMax), id: str(o['id'], 'authId.id', constants.authCredentialBytesMax) };
  });
}

export function validateWriteRequest(v: unknown): WriteRequest {
  const o = obj(v, 'request.request');
  return { sessionId: i64(o['sessionId'], 'request.sessionId'), tag: int(o['tag'], 'request.tag', -(2 ** 53), 2 ** 53), authIds: authIds(o['authIds']), op: op(o['op'], 'request.op', 0) };
}

function stat(v: unknown, what: string): Stat {
  const o = obj(v, what);
  const i32 = (k: string): number => int(o[k], `${what}.${k}`, -(2 ** 31), 2 ** 31 - 1);
  const time = (k: string): number => {
    const n = o[k];
    if (typeof n !== 'number' || !Number.isFinite(n)) fail(`${what}.${k}`, 'expected a time');
    return n;
  };
  return {
    czxid: i64(o['czxid'], `${what}.czxid`), mzxid: i64(o['mzxid'], `${what}.mzxid`), pzxid: i64(o['pzxid'], `${what}.pzxid`),
    ctime: time('ctime'), mtime: time('mtime'), version: i32('version'), cversion: i32('cversion'), aversion: i32('aversion'),
    ephemeralOwner: i64(o['ephemeralOwner'], `${what}.ephemeralOwner`), dataLength: i32('dataLength'), numChildren: i32('numChildren'),
  };
}

function opResult(v: unknown, what: string): ServerOpResult {
  const o = obj(v, what);
  switch (o['op']) {
    case 'create': return { op: 'create', path: path(o['path'], `${what}.path`), stat: stat(o['stat'], `${what}.stat`) };
    case 'delete': return { op: 'delete' };
    case 'check': return { op: 'check' };
    case 'setData': return { op: 'setData', stat: stat(o['stat'], `${what}.stat`) };
    case 'error': {
      const code = o['code'];
      if (code !== 'OK' && !isErrorCode(code)) fail(`${what}.code`, 'not an error code');
      return { op: 'error', code };
    }
    default: return fail(`${what}.op`, 'unknown op result');
  }
}

function value(v: unknown): WriteValue {
  const o = obj(v, 'reply.result.value');
  switch (o['type']) {
    case 'create': return { type: 'create', path: path(o['path'], 'value.path'), stat: stat(o['stat'], 'value.stat') };
    case 'setData': return { type: 'setData', stat: stat(o['stat'], 'value.stat') };
    case 'setACL': return { type: 'setACL', stat: stat(o['stat'], 'value.stat') };
    case 'multi': return { type: 'multi', results: arr(o['results'], 'value.results', constants.multiOpsMax).map((r, i) => opResult(r, `value.results[${i}]`)) };
    case 'getEphemerals': return { type: 'getEphemerals', paths: arr(o['paths'], 'value.paths', 1_000_000).map((p, i) => path(p, `value.paths[${i}]`)) };
    case 'delete': case 'sync': case 'createSession': case 'closeSession': case 'deleteContainer':
      return { type: o['type'] };
    default: return fail('reply.result.value.type', 'unknown write value');
  }
}

export function validateWriteResult(v: unknown): WriteResult {
  const o = obj(v, 'reply.result');
  if (o['ok'] === true) return { ok: true, value: value(o['value']) };
  if (o['ok'] !== false) fail('reply.result.ok', 'expected a boolean');
  const code = o['code'];
  if (!isErrorCode(code)) fail('reply.result.code', 'not an error code');
  const out: WriteResult = { ok: false, code };
  if (o['message'] !== undefined) out.message = str(o['message'], 'reply.result.message', constants.errorMessageBytesMax);
  if (o['path'] !== undefined) out.path = path(o['path'], 'reply.result.path');
  if (o['results'] !== undefined) out.results = arr(o['results'], 'reply.result.results', constants.multiOpsMax).map((r, i) => opResult(r, `results[${i}]`));
  return out;
}
