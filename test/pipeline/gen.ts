// The random request generator of the model-based tests (moved out of model.test.ts unchanged,
// so the leader/follower property test drives the same op mix): specs picked by fast-check, turned
// into requests against the reference model's current nodes.
import fc from 'fast-check';
import type { ACL, CreateMode } from '../../src/common/types.js';
import { createModes } from '../../src/common/types.js';
import type { AuthId, WriteOp, WriteRequest } from '../../src/server/pipeline/api.js';
import { digestAuthId } from '../../src/server/pipeline/index.js';
import type { Model } from './model.js';

export const dataBytesMax = 16;
export const sessions: { id: bigint; authIds: AuthId[] }[] = [
  { id: 0x100_0000_0000_0001n, authIds: [{ scheme: 'ip', id: '127.0.0.1' }] },
  { id: 0x100_0000_0000_0002n, authIds: [{ scheme: 'ip', id: '10.1.2.3' }, { scheme: 'digest', id: digestAuthId('u1:p1') }] },
  { id: 0x100_0000_0000_0003n, authIds: [{ scheme: 'digest', id: digestAuthId('u2:p2') }] },
  { id: 0n, authIds: [] }, // the main thread (sweeper)
];
const world = (perms: number): ACL => ({ perms, scheme: 'world', id: 'anyone' });
const acls: ACL[][] = [
  [world(31)],
  [world(1)],
  [{ perms: 31, scheme: 'auth', id: '' }],
  [{ perms: 31, scheme: 'digest', id: digestAuthId('u1:p1') }],
  [world(1 | 4 | 8), { perms: 31, scheme: 'digest', id: digestAuthId('u2:p2') }],
  [],
  [{ perms: 31, scheme: 'world', id: 'foo' }],
  [{ perms: 31, scheme: 'ip', id: '127.0.0.0/8' }],
  [{ perms: 31, scheme: 'ip', id: '10.0.0.0/8' }, world(1)],
  [world(31), world(31)],
];
const datas = ['', 'x', 'hello', 'y'.repeat(dataBytesMax), 'z'.repeat(dataBytesMax + 1)].map((s) => new TextEncoder().encode(s));
const names = ['a', 'b', 'c', 's-', '', 'zookeeper'];
const versions = [-1, 0, 1, 2];
const ttls = [0, 1, 50, 1000, -1];

export interface Spec {
  kind: number;
  s: number;
  p: number;
  name: number;
  mode: number;
  acl: number;
  ver: number; // < versions.length: fixed value; else the node's actual version
  data: number;
  ttl: number;
  sub: Spec[];
  flush: boolean;
  dt: number;
}

const leaf = {
  kind: fc.oneof(
    { arbitrary: fc.constantFrom(0, 1, 2), weight: 6 },
    { arbitrary: fc.constant(3), weight: 4 },
    { arbitrary: fc.constantFrom(4, 5, 6, 7, 8, 9), weight: 6 },
    { arbitrary: fc.constantFrom(10, 11, 12), weight: 1 },
  ),
  s: fc.nat(3),
  p: fc.nat(40),
  name: fc.nat(names.length - 1),
  mode: fc.nat(createModes.length - 1),
  acl: fc.oneof(fc.constant(0), fc.nat(acls.length - 1)),
  ver: fc.nat(versions.length + 2),
  data: fc.nat(datas.length - 1),
  ttl: fc.nat(ttls.length - 1),
  flush: fc.boolean(),
  dt: fc.oneof(fc.constant(0), fc.nat(2000)),
};
export const specArb: fc.Arbitrary<Spec> = fc.record({
  ...leaf,
  sub: fc.array(fc.record({ ...leaf, sub: fc.constant([]) }), { maxLength: 4 }),
});

/** Turns a spec into a request, picking paths among the model's current nodes. */
/** Live session ids per slot (a closed session's slot gets a new id); stale: the slot's last closed id. */
export interface Slots {
  live: bigint[];
  stale: (bigint | undefined)[];
  next: bigint;
}

export function toRequest(spec: Spec, model: Model, tag: number, now: number, slots: Slots): WriteRequest {
  const paths = [...model.nodes.keys()].sort();
  const pick = (i: number): string => (i < paths.length ? paths[i % paths.length]! : i % 7 === 0 ? '/nope/x' : paths[i % paths.length]!);
  const versionOf = (path: string, which: 'version' | 'aversion'): number => {
    if (spec.ver < versions.length) return versions[spec.ver]!;
    return model.nodes.get(path)?.stat[which] ?? 0;
  };
  const slot = spec.s % 3;
  // s === 3: a request from the slot's session that has been closed (SESSIONEXPIRED).
  const id = spec.s === 3 && slots.stale[slot] !== undefined ? slots.stale[slot]! : slots.live[slot]!;
  const session = { id, authIds: sessions[slot]!.authIds };
  if (spec.kind === 10) {
    slots.stale[slot] = id;
    slots.live[slot] = slots.next++;
  }
  const mkOp = (sp: Spec, kind: number): WriteOp => {
    const path = pick(sp.p);
    switch (kind) {
      case 0:
      case 1:
      case 2: {
        const parent = pick(sp.p);
        const mode: CreateMode = createModes[sp.mode]!;
        const name = names[sp.name]!;
        return { type: 'create', path: (parent === '/' ? '' : parent) + '/' + name, data: datas[sp.data]!, mode, acl: acls[sp.acl]!, ttlMs: mode.endsWith('_with_ttl') ? ttls[sp.ttl]! : 0 };
      }
      case 3:
        return { type: 'delete', path, version: versionOf(path, 'version') };
      case 4:
      case 5:
        return { type: 'setData', path, data: datas[sp.data]!, version: versionOf(path, 'version') };
      default:
        return { type: 'check', path, version: versionOf(path, 'version') };
    }
  };
  let op: WriteOp;
  switch (spec.kind) {
    case 7:
      op = { type: 'setACL', path: pick(spec.p), acl: acls[spec.acl]!, version: versionOf(pick(spec.p), 'aversion') };
      break;
    case 8:
      op = { type: 'multi', ops: spec.sub.map((s) => mkOp(s, s.kind % 7)) };
      break;
    case 9:
      op = spec.p % 2 === 0 ? { type: 'sync', path: '/' } : { type: 'getEphemerals', prefix: spec.p % 4 === 1 ? '/' : pick(spec.p) };
      break;
    case 10:
      op = { type: 'closeSession' };
      break;
    case 11: {
      // The sweeper: mostly real candidates, sometimes any node (prep must re-check).
      const expired = model.expired(now).filter((p) => p !== '/' && !p.startsWith('/zookeeper'));
      const any = paths.filter((p) => p !== '/' && !p.startsWith('/zookeeper'));
      const from = spec.name % 2 === 0 && expired.length > 0 ? expired : any;
      if (from.length === 0) return { sessionId: 0n, tag, authIds: [], op: { type: 'sync', path: '/' } };
      return { sessionId: 0n, tag, authIds: [], op: { type: 'deleteContainer', path: from[spec.p % from.length]! } };
    }
    case 12:
      op = { type: 'createSession', timeoutMs: 10_000, password: new Uint8Array(16) };
      break;
    default:
      op = mkOp(spec, spec.kind === 6 ? 4 : spec.kind);
      if (op.type === 'check') op = { type: 'multi', ops: [op] };
  }
  return { sessionId: session.id, tag, authIds: session.authIds, op };
}

