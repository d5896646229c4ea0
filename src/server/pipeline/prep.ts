// Prep: ZooKeeper's PrepRequestProcessor. Validates one write against the tree plus the pending
// changes, in ZooKeeper's order of checks (so the same request fails with the same code), and
// turns it into txn ops carrying every value apply needs. Expected failures are ZookooperErrors
// thrown here and caught by the caller at the request (or multi op) boundary.
import { assert } from '../../common/assert.js';
import { ZookooperError } from '../../common/errors.js';
import { parentPath, pathProblem } from '../../common/paths.js';
import type { ACL, CreateMode, Stat } from '../../common/types.js';
import { Perms, createModes } from '../../common/types.js';
import { checkAcl, validateAcl } from './acl.js';
import type { AuthId, WriteOp } from './api.js';
import type { NodeState, Scratch } from './changes.js';
import { clientStat, containerOwner, isValidSessionOwner, ownerKind, ownerTtlMs, ttlMsMax, ttlOwner } from './owner.js';
import type { TxnOp } from './txn.js';

export interface PrepContext {
  view: Scratch;
  zxid: bigint; // the zxid this request gets if it succeeds
  timeMs: number;
  sessionId: bigint;
  authIds: readonly AuthId[];
  dataBytesMax: number;
  ops: TxnOp[]; // out: txn ops, in order
}

/** What a successful op reports (before it is shaped into a WriteValue or a multi OpResult). */
export type OpOutcome =
  | { type: 'create'; path: string; stat: Stat }
  | { type: 'delete' }
  | { type: 'setData'; stat: Stat }
  | { type: 'setACL'; stat: Stat }
  | { type: 'check' };

/** Nodes no one may delete (ZKDatabase.isSpecialPath); ZooKeeper answers BADARGUMENTS. */
const undeletable = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

export function fail(code: ZookooperError['code'], path?: string, message?: string): never {
  throw new ZookooperError(code, message, path);
}

function checkPath(path: unknown, sequential = false): string {
  const problem = pathProblem(path, sequential);
  if (problem !== null) fail('BADARGUMENTS', typeof path === 'string' ? path : undefined, `invalid path ${JSON.stringify(path)}: ${problem}`);
  return path as string;
}

function checkData(data: unknown, max: number, path: string): Uint8Array {
  if (!(data instanceof Uint8Array)) fail('BADARGUMENTS', path, 'data must be bytes');
  if (data.length > max) fail('BADARGUMENTS', path, `data of ${data.length} bytes is over the limit of ${max} bytes`);
  return data;
}

/** -1 matches any version; ZooKeeper takes any int, so other negatives simply never match. */
function checkVersion(expected: unknown, current: number, path: string): void {
  if (typeof expected !== 'number' || !Number.isInteger(expected)) fail('BADARGUMENTS', path, 'version must be an integer');
  if (expected !== -1 && expected !== current) fail('BADVERSION', path);
}

function need(view: Scratch, path: string, reportPath = path): NodeState {
  const n = view.get(path);
  if (n === null) fail('NONODE', reportPath);
  return n;
}

function permit(node: NodeState, perm: number, ctx: PrepContext, path: string): void {
  if (!checkAcl(node.acl, perm, ctx.authIds)) fail('NOAUTH', path);
}

function fixAcl(acl: ACL[], ctx: PrepContext, path: string): ACL[] {
  const fixed = validateAcl(acl, ctx.authIds);
  if (fixed === null) fail('INVALIDACL', path);
  return fixed;
}

// Java int arithmetic: ZooKeeper's versions and counters are int32 and wrap.
const inc32 = (v: number): number => (v + 1) | 0;

/** String.format("%010d", n), negative numbers included. */
export function sequenceSuffix(n: number): string {
  const digits = String(Math.abs(n));
  return n < 0 ? '-' + digits.padStart(9, '0') : digits.padStart(10, '0');
}

function isTtlMode(mode: CreateMode): boolean {
  return mode === 'persistent_with_ttl' || mode === 'persistent_sequential_with_ttl';
}

function prepCreate(op: Extract<WriteOp, { type: 'create' }>, ctx: PrepContext): OpOutcome {
  const mode = op.mode;
  if (!createModes.includes(mode)) fail('BADARGUMENTS', op.path, `unknown create mode ${String(mode)}`);
  // EphemeralType.validateTTL: a TTL mode needs 1 <= ttl <= max; other modes take no TTL
  // (0 and -1 both mean "none" here, since our API leaves ttlMs out rather than sending -1).
  if (isTtlMode(mode)) {
    if (!Number.isInteger(op.ttlMs) || op.ttlMs < 1 || op.ttlMs > ttlMsMax) {
      fail('BADARGUMENTS', op.path, `ttlMs must be an integer in [1, ${ttlMsMax}] for mode ${mode}`);
    }
  } else if (op.ttlMs !== 0 && op.ttlMs !== -1) {
    fail('BADARGUMENTS', op.path, `ttlMs is not valid for mode ${mode}`);
  }
  const sequential = mode.includes('sequential');
  const path = checkPath(op.path, sequential);
  const data = checkData(op.data, ctx.dataBytesMax, path);
  const acl = fixAcl(op.acl, ctx, path); // ZooKeeper checks the ACL before the parent exists
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  const p = need(ctx.view, parent, path);
  permit(p, Perms.CREATE, ctx, path);
  const finalPath = sequential ? path + sequenceSuffix(p.sequence) : path;
  checkPath(finalPath);
  if (ctx.view.get(finalPath) !== null) fail('NODEEXISTS', finalPath);
  if (ownerKind(p.stat.ephemeralOwner) === 'session') fail('NOCHILDRENFOREPHEMERALS', finalPath);
  let owner = 0n;
  if (mode === 'container') owner = containerOwner;
  else if (isTtlMode(mode)) owner = ttlOwner(op.ttlMs);
  else if (mode === 'ephemeral' || mode === 'ephemeral_sequential') {
    if (!isValidSessionOwner(ctx.sessionId)) fail('BADARGUMENTS', finalPath, 'an ephemeral node needs a session');
    owner = ctx.sessionId;
  }
  const stat: Stat = {
    czxid: ctx.zxid,
    mzxid: ctx.zxid,
    pzxid: ctx.zxid,
    ctime: ctx.timeMs,
    mtime: ctx.timeMs,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: owner,
    dataLength: data.length,
    numChildren: 0,
  };
  const parentCversion = inc32(p.stat.cversion);
  const parentSequence = inc32(p.sequence);
  ctx.view.set(finalPath, { stat, sequence: 0, acl });
  setParent(ctx, parent, p, +1, parentCversion, parentSequence);
  ctx.ops.push({ type: 'create', path: finalPath, data, acl, owner, parentCversion, parentSequence });
  return { type: 'create', path: finalPath, stat: clientStat(stat) };
}

function setParent(ctx: PrepContext, path: string, p: NodeState, childDelta: number, cversion: number, sequence: number): void {
  const stat = { ...p.stat, numChildren: p.stat.numChildren + childDelta, cversion, pzxid: ctx.zxid };
  assert(stat.numChildren >= 0, () => `negative child count of ${path}`);
  // ZooKeeper stores the creation count and shows cversion = 2 * creations - numChildren
  // (DataNode.copyStat); we keep both and they must agree (mod 2^32, as Java ints).
  assert(((2 * sequence - stat.numChildren) | 0) === stat.cversion, () => `cversion of ${path} disagrees with its creation count`);
  ctx.view.set(path, { stat, sequence, acl: p.acl });
}

/** Shared by delete, deleteContainer and closeSession: the node is gone, its parent changes. */
function removeNode(ctx: PrepContext, path: string, parent: string, p: NodeState): void {
  const parentCversion = inc32(p.stat.cversion);
  ctx.view.set(path, null);
  setParent(ctx, parent, p, -1, parentCversion, p.sequence);
  ctx.ops.push({ type: 'delete', path, parentCversion });
}

function prepDelete(op: Extract<WriteOp, { type: 'delete' }>, ctx: PrepContext): OpOutcome {
  const path = checkPath(op.path);
  if (undeletable.has(path)) fail('BADARGUMENTS', path, `${path} cannot be deleted`);
  const parent = parentPath(path);
  const p = need(ctx.view, parent, path);
  permit(p, Perms.DELETE, ctx, path); // ZooKeeper: NOAUTH on the parent before NONODE of the node
  const n = need(ctx.view, path);
  checkVersion(op.version, n.stat.version, path);
  if (n.stat.numChildren > 0) fail('NOTEMPTY', path);
  removeNode(ctx, path, parent, p);
  return { type: 'delete' };
}

function prepSetData(op: Extract<WriteOp, { type: 'setData' }>, ctx: PrepContext): OpOutcome {
  const path = checkPath(op.path);
  const data = checkData(op.data, ctx.dataBytesMax, path);
  const n = need(ctx.view, path);
  permit(n, Perms.WRITE, ctx, path);
  checkVersion(op.version, n.stat.version, path);
  const version = inc32(n.stat.version);
  const stat: Stat = { ...n.stat, version, mzxid: ctx.zxid, mtime: ctx.timeMs, dataLength: data.length };
  ctx.view.set(path, { ...n, stat });
  ctx.ops.push({ type: 'setData', path, data, version });
  return { type: 'setData', stat: clientStat(stat) };
}

function prepSetAcl(op: Extract<WriteOp, { type: 'setACL' }>, ctx: PrepContext): OpOutcome {
  const path = checkPath(op.path);
  const acl = fixAcl(op.acl, ctx, path); // before NONODE, as ZooKeeper
  const n = need(ctx.view, path);
  permit(n, Perms.ADMIN, ctx, path);
  checkVersion(op.version, n.stat.aversion, path);
  const aversion = inc32(n.stat.aversion);
  const stat: Stat = { ...n.stat, aversion };
  ctx.view.set(path, { ...n, stat, acl });
  ctx.ops.push({ type: 'setACL', path, acl, aversion });
  return { type: 'setACL', stat: clientStat(stat) };
}

function prepCheck(op: Extract<WriteOp, { type: 'check' }>, ctx: PrepContext): OpOutcome {
  const path = checkPath(op.path);
  const n = need(ctx.view, path);
  permit(n, Perms.READ, ctx, path);
  checkVersion(op.version, n.stat.version, path);
  // Kept in the txn (as ZooKeeper's CheckVersionTxn) so a multi's per-op results can be derived
  // from the txn alone on every server.
  ctx.ops.push({ type: 'check', path, version: n.stat.version });
  return { type: 'check' };
}

/** One op of a single request or of a multi. Throws ZookooperError on an expected failure. */
export function prepOp(op: WriteOp, ctx: PrepContext): OpOutcome {
  switch (op.type) {
    case 'create':
      return prepCreate(op, ctx);
    case 'delete':
      return prepDelete(op, ctx);
    case 'setData':
      return prepSetData(op, ctx);
    case 'setACL':
      return prepSetAcl(op, ctx);
    case 'check':
      return prepCheck(op, ctx);
    default:
      return fail('BADARGUMENTS', undefined, `${op.type} is not a data operation`);
  }
}

/**
 * deleteContainer from the sweeper. ZooKeeper re-checks only "no children" (NOTEMPTY) and "is a
 * container or TTL node" (BADVERSION); we also re-check the sweeper's reason, because the node
 * may have changed since it looked: a container that never had a child, or a TTL node changed
 * within its TTL, is no longer eligible (BADVERSION, nothing deleted).
 */
export function prepDeleteContainer(path: string, ctx: PrepContext): void {
  checkPath(path);
  if (undeletable.has(path)) fail('BADARGUMENTS', path, `${path} cannot be deleted`);
  const n = need(ctx.view, path);
  if (n.stat.numChildren > 0) fail('NOTEMPTY', path);
  const kind = ownerKind(n.stat.ephemeralOwner);
  if (kind === 'container') {
    if (n.sequence <= 0) fail('BADVERSION', path, 'container never had a child');
  } else if (kind === 'ttl') {
    if (ctx.timeMs - n.stat.mtime <= ownerTtlMs(n.stat.ephemeralOwner)) fail('BADVERSION', path, 'TTL not expired');
  } else {
    fail('BADVERSION', path, 'not a container or TTL node');
  }
  const parent = parentPath(path);
  removeNode(ctx, path, parent, need(ctx.view, parent, path));
}

/** closeSession: delete each of the session's ephemerals (no ACL checks, as ZooKeeper). */
export function prepCloseSession(paths: readonly string[], ctx: PrepContext): void {
  for (const path of paths) {
    const n = ctx.view.get(path);
    assert(n !== null && n.stat.ephemeralOwner === ctx.sessionId, () => `closeSession: ${path} is not an ephemeral of the session`);
    assert(n.stat.numChildren === 0, 'an ephemeral has no children');
    const parent = parentPath(path);
    const p = ctx.view.get(parent);
    assert(p !== null, () => `closeSession: no parent of ${path}`);
    removeNode(ctx, path, parent, p);
  }
}
