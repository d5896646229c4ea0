// ZooKeeper's jute records as a ConnCodec (codec.ts), one instance per connection: the first frame
// is a ConnectRequest without a header, later ones carry RequestHeader; answers whose shape the
// engine's call does not say (sync's path, addWatch, whoAmI, SASL, multiRead) are remembered by
// xid at decode time.
// ZooKeeper sends no reason before it closes a connection: the reason goes to the log instead,
// and the only closing frame is the "expired" ConnectResponse a refused reconnect gets.
import type { ErrorCode } from '../../common/errors.js';
import type { AuthId } from '../pipeline/api.js';
import { errorCodeToWire, Opcode, type DecodeLimits } from '../../protocol/index.js';
import { JuteWriter } from '../../protocol/jute/buffer.js';
import { decodeJuteConnect, decodeJuteRequest, type JuteLocal } from '../../protocol/jute/decode.js';
import { JuteOp, JuteXid, juteProtocolVersion } from '../../protocol/jute/codes.js';
import {
  connectResponse,
  expiredConnectResponse,
  replyHeader,
  watcherEvent,
  writeAcl,
  writeMulti,
  writeMultiFailure,
  writeStat,
  writeStrings,
} from '../../protocol/jute/encode.js';
import type { ConnCodec, Decoded } from './codec.js';

export interface JuteCodecOptions {
  limits: DecodeLimits;
  /** The connection's identities now (whoAmI). */
  authIds(): readonly AuthId[];
  /** Why the server closes this connection (ZooKeeper's clients get no reason on the wire). */
  closingReason(code: ErrorCode, reason: string): void;
  /**
   * Close the connection once this answer is out, as ZooKeeper does after a failed auth packet
   * (xid -4) and after an unknown opcode's UNIMPLEMENTED.
   */
  closeAfterAnswer(code: ErrorCode, reason: string): void;
}

// addWatch: ZooKeeper's success answer has an ErrorResponse {err: 0} body (its clients read it).
// multiRead: each op is a read of its own (a synthetic xid); its answer is written into the
// group's MultiResponse, and the last one sends the whole frame (the others send nothing).
interface MultiReadGroup {
  xid: number;
  left: number;
  w: JuteWriter;
}
type Pending =
  | { kind: 'local'; local: JuteLocal }
  | { kind: 'sync'; path: string }
  | { kind: 'addWatch' }
  | { kind: 'multiRead'; group: MultiReadGroup }
  | { kind: 'multi'; stats: readonly boolean[] };

/** Synthetic xids of multiRead ops: int32 values below -2^30, which clients do not use. */
const syntheticXidBase = 0x8000_0000;
const syntheticXidSpan = 0x4000_0000;

const empty = new Uint8Array(0);

export function juteCodec(o: JuteCodecOptions): ConnCodec {
  let connected = false;
  let sawConnect = false;
  let oldClient = false;
  const pending = new Map<number, Pending[]>();
  const remember = (xid: number, p: Pending): void => {
    const list = pending.get(xid);
    if (list) list.push(p);
    else pending.set(xid, [p]);
  };
  const take = (xid: number): Pending | undefined => {
    const list = pending.get(xid);
    if (!list) return undefined;
    const p = list.shift();
    if (list.length === 0) pending.delete(xid);
    return p;
  };
  let nextSynthetic = 0;
  /** One multiRead op answered: its result goes into the group; the last one yields the frame. */
  const part = (g: MultiReadGroup, zxid: bigint, write: (w: JuteWriter) => void): Uint8Array => {
    write(g.w);
    if (--g.left > 0) return empty;
    return header(g.xid, zxid).raw(g.w.body()).int(-1).bool(true).int(-1).frame();
  };
  const header = (xid: number, zxid: bigint, err: ErrorCode | 'OK' = 'OK', hint?: number) => replyHeader(xid | 0, zxid, err, hint);
  const error = (xid: number, zxid: bigint, code: ErrorCode): Uint8Array => header(xid, zxid, code).frame();

  const codec: ConnCodec = {
    protocolVersion: juteProtocolVersion,
    decode(frame): Decoded {
      if (!sawConnect) {
        sawConnect = true;
        const d = decodeJuteConnect(frame);
        if (d.kind !== 'connect') return d.kind === 'malformed' ? d : { kind: 'malformed', reason: 'bad ConnectRequest' };
        oldClient = d.oldClient;
        // ZooKeeper does not check the version; the engine does: every jute client speaks 0.
        return { kind: 'connect', req: { ...d.req, protocolVersion: juteProtocolVersion } };
      }
      const d = decodeJuteRequest(frame, o.limits);
      if (d.kind === 'connect') return { kind: 'malformed', reason: 'ConnectRequest after the handshake' };
      if (d.kind === 'malformed') return d;
      if (d.kind === 'multiRead') {
        if (d.reqs.length === 0) {
          remember(d.xid, { kind: 'local', local: { kind: 'emptyMultiRead' } });
          return { kind: 'request', req: { opcode: Opcode.ping, xid: d.xid } };
        }
        const group: MultiReadGroup = { xid: d.xid, left: d.reqs.length, w: new JuteWriter(256) };
        const reqs = d.reqs.map((r) => {
          const xid = syntheticXidBase + (nextSynthetic++ % syntheticXidSpan);
          remember(xid, { kind: 'multiRead', group });
          return { ...r, xid };
        });
        return { kind: 'requests', reqs };
      }
      if (d.local) remember(d.req.xid, { kind: 'local', local: d.local });
      else if (d.syncPath !== undefined) remember(d.req.xid, { kind: 'sync', path: d.syncPath });
      else if (d.juteOp === JuteOp.addWatch) remember(d.req.xid, { kind: 'addWatch' });
      else if (d.multiStats?.includes(true)) remember(d.req.xid, { kind: 'multi', stats: d.multiStats });
      return { kind: 'request', req: d.req };
    },
    connected(c) {
      connected = true;
      return connectResponse(juteProtocolVersion, c.sessionTimeoutMs, c.sessionId, c.password, oldClient ? null : false);
    },
    closing(code, reason) {
      o.closingReason(code, reason);
      // A reconnect to a session that is gone, or with a wrong password: ZooKeeper answers a
      // ConnectResponse with timeout 0, which its clients read as "session expired".
      if (!connected && sawConnect && code === 'SESSIONEXPIRED') return expiredConnectResponse(juteProtocolVersion, oldClient);
      return empty;
    },
    error(xid, zxid, code, _message, opCodes) {
      const p = take(xid);
      if (p?.kind === 'multiRead') return part(p.group, zxid, (w) => w.int(JuteOp.error).bool(false).int(errorCodeToWire(code)).int(errorCodeToWire(code)));
      if ((xid | 0) === JuteXid.auth && code === 'AUTHFAILED') o.closeAfterAnswer('AUTHFAILED', 'auth failed: the connection is closed, as ZooKeeper does');
      if (opCodes !== undefined) return writeMultiFailure(header(xid, zxid), opCodes).frame();
      return error(xid, zxid, code);
    },
    ok(xid, zxid) {
      const p = take(xid);
      if (p?.kind === 'local') {
        if (p.local.kind === 'emptyMultiRead') return header(xid, zxid).int(-1).bool(true).int(-1).frame();
        if (p.local.kind === 'fail') {
          if (p.local.close === true) o.closeAfterAnswer(p.local.code, p.local.why);
          else o.closingReason(p.local.code, p.local.why); // logged, the connection stays
          return error(xid, zxid, p.local.code);
        }
        const w = header(xid, zxid);
        const ids = o.authIds();
        w.int(ids.length);
        for (const a of ids) w.ustring(a.scheme).ustring(a.scheme === 'digest' ? a.id.split(':')[0]! : a.id);
        return w.frame();
      }
      if (p?.kind === 'addWatch') return header(xid, zxid).int(0).frame();
      return header(xid, zxid).frame();
    },
    stat(xid, zxid, stat) {
      // exists on a missing node: NONODE and no body, as ZooKeeper.
      if (stat === null) return error(xid, zxid, 'NONODE');
      return writeStat(header(xid, zxid, 'OK', 80), stat).frame();
    },
    data(xid, zxid, data, stat) {
      const p = take(xid);
      if (p?.kind === 'multiRead') return part(p.group, zxid, (w) => writeStat(w.int(JuteOp.getData).bool(false).int(0).buffer(data), stat));
      return writeStat(header(xid, zxid, 'OK', 84 + data.byteLength).buffer(data), stat).frame();
    },
    children(xid, zxid, names, stat) {
      const p = take(xid);
      if (p?.kind === 'multiRead') return part(p.group, zxid, (w) => writeStrings(w.int(JuteOp.getChildren).bool(false).int(0), names));
      const w = writeStrings(header(xid, zxid, 'OK', 100 + names.length * 16), names);
      return (stat === null ? w : writeStat(w, stat)).frame();
    },
    count(xid, zxid, n) {
      return header(xid, zxid).int(n).frame();
    },
    acl(xid, zxid, acl, stat) {
      return writeStat(writeAcl(header(xid, zxid), acl), stat).frame();
    },
    writeResult(xid, zxid, opcode, r) {
      const p = take(xid);
      if (!r.ok) {
        if (r.results !== undefined) return writeMultiFailure(header(xid, zxid), r.results.map((x) => (x.op === 'error' ? x.code : 'OK'))).frame();
        return error(xid, zxid, r.code);
      }
      const v = r.value;
      switch (v.type) {
        case 'create': {
          const w = header(xid, zxid).ustring(v.path);
          return (opcode === Opcode.create2 ? writeStat(w, v.stat) : w).frame();
        }
        case 'setData':
        case 'setACL':
          return writeStat(header(xid, zxid), v.stat).frame();
        case 'multi':
          return writeMulti(header(xid, zxid), v.results, p?.kind === 'multi' ? p.stats : undefined).frame();
        case 'getEphemerals':
          return writeStrings(header(xid, zxid), v.paths).frame();
        case 'sync':
          return header(xid, zxid).ustring(p?.kind === 'sync' ? p.path : '/').frame();
        default:
          return header(xid, zxid).frame();
      }
    },
    watchEvent(zxid, type, path) {
      return watcherEvent(zxid, type, path);
    },
  };
  return codec;
}
