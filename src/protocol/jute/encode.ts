// Server -> client jute records, each returned as a whole frame (length prefix included).
import { errorCodeToWire } from '../codes.js';
import type { ErrorCode } from '../../common/errors.js';
import type { ACL, ServerOpResult, Stat } from '../../common/types.js';
import { JuteWriter } from './buffer.js';
import { JuteOp, JuteXid, juteEventType, KeeperState } from './codes.js';

export function writeStat(w: JuteWriter, s: Stat): JuteWriter {
  return w
    .long(s.czxid)
    .long(s.mzxid)
    .long(BigInt(Math.trunc(s.ctime)))
    .long(BigInt(Math.trunc(s.mtime)))
    .int(s.version)
    .int(s.cversion)
    .int(s.aversion)
    .long(s.ephemeralOwner)
    .int(s.dataLength)
    .int(s.numChildren)
    .long(s.pzxid);
}

/** ReplyHeader {xid, zxid, err}; the body follows. */
export function replyHeader(xid: number, zxid: bigint, err: ErrorCode | 'OK' = 'OK', sizeHint = 64): JuteWriter {
  return new JuteWriter(sizeHint).int(xid).long(zxid).int(errorCodeToWire(err));
}

/**
 * ConnectResponse; `readOnly` null leaves the byte out, as ZooKeeper answers a client whose
 * ConnectRequest had none (ZooKeeperServer.finishSessionInit: `if (!cnxn.isOldClient)`).
 */
export function connectResponse(protocolVersion: number, timeOut: number, sessionId: bigint, passwd: Uint8Array, readOnly: boolean | null): Buffer {
  const w = new JuteWriter(48).int(protocolVersion).int(timeOut).long(sessionId).buffer(passwd);
  return (readOnly === null ? w : w.bool(readOnly)).frame();
}

/** ZooKeeper's answer to a reconnect whose session is gone or whose password is wrong. */
export function expiredConnectResponse(protocolVersion: number, oldClient: boolean): Buffer {
  return connectResponse(protocolVersion, 0, 0n, new Uint8Array(16), oldClient ? null : false);
}

export function watcherEvent(zxid: bigint, type: keyof typeof juteEventType, path: string): Buffer {
  return replyHeader(JuteXid.notification, zxid, 'OK', 32 + path.length)
    .int(juteEventType[type])
    .int(KeeperState.syncConnected)
    .ustring(path)
    .frame();
}

export function writeAcl(w: JuteWriter, acl: readonly ACL[]): JuteWriter {
  w.int(acl.length);
  for (const a of acl) w.int(a.perms).ustring(a.scheme).ustring(a.id);
  return w;
}

export function writeStrings(w: JuteWriter, list: readonly string[]): JuteWriter {
  w.int(list.length);
  for (const s of list) w.ustring(s);
  return w;
}

/**
 * MultiResponse: (MultiHeader {type, done, err}, result)* then {-1, true, -1}. A create whose
 * `withStat[i]` is set (a createContainer / createTTL op) answers Create2Response {path, stat}, the
 * others CreateResponse {path}, as ZooKeeper 3.8.
 */
export function writeMulti(w: JuteWriter, results: readonly ServerOpResult[], withStat?: readonly boolean[]): JuteWriter {
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    switch (r.op) {
      case 'create':
        if (withStat?.[i] === true) writeStat(w.int(JuteOp.create2).bool(false).int(0).ustring(r.path), r.stat);
        else w.int(JuteOp.create).bool(false).int(0).ustring(r.path);
        break;
      case 'delete':
        w.int(JuteOp.delete).bool(false).int(0);
        break;
      case 'setData':
        writeStat(w.int(JuteOp.setData).bool(false).int(0), r.stat);
        break;
      case 'check':
        w.int(JuteOp.check).bool(false).int(0);
        break;
      case 'error':
        w.int(JuteOp.error).bool(false).int(errorCodeToWire(r.code)).int(errorCodeToWire(r.code));
        break;
    }
  }
  return w.int(-1).bool(true).int(-1);
}

/** A failed multi: header OK, every op an ErrorResult (ZooKeeper's FinalRequestProcessor). */
export function writeMultiFailure(w: JuteWriter, codes: readonly (ErrorCode | 'OK')[]): JuteWriter {
  for (const c of codes) w.int(JuteOp.error).bool(false).int(errorCodeToWire(c)).int(errorCodeToWire(c));
  return w.int(-1).bool(true).int(-1);
}
