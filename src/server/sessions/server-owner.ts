// Which server of the ensemble holds each session, as the leader sees it (ZooKeeper's
// SessionTracker setOwner / checkSession): a client that moved to another server leaves its old
// connection behind, and a write that connection still forwards must fail SESSIONMOVED instead
// of acting for a session that lives elsewhere now.
//
//   - a server's own request for a session (main tag) claims it for that server when it is the
//     claim a re-attach sends (a sync, see main.ts) or the createSession; other main requests
//     (the leader's expiry closeSession) claim nothing and are never refused;
//   - a session with no known server (new, or after a leader change) belongs to the first
//     server that writes for it (ZooKeeper: an owner-less session takes the first owner);
//   - any other request from a server that is not the owner is SESSIONMOVED.
// Only the leader prepares, so only its table's ownerServer fields are used.
import type { WriteRequest } from '../pipeline/api.js';
import { isMainTag } from '../main-requests.js';
import type { SessionManager } from './manager.js';

export function serverOwnerCheck(sessions: SessionManager): (req: WriteRequest, serverId: number) => 'SESSIONMOVED' | null {
  return (req, serverId) => {
    const info = sessions.get(req.sessionId);
    if (info === undefined) return null; // createSession, or not live: isSessionLive decides
    if (isMainTag(req.origin?.tag ?? req.tag)) {
      if (req.op.type === 'sync' || req.op.type === 'createSession') info.ownerServer = serverId;
      return null;
    }
    if (info.ownerServer === null) {
      info.ownerServer = serverId;
      return null;
    }
    return info.ownerServer === serverId ? null : 'SESSIONMOVED';
  };
}
