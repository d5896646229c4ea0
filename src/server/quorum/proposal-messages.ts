// Consecutive proposals as PROPOSALS messages: at most zabProposalsPerMessageMax txns and
// zabProposalsMessageBytesMax txn bytes each (a larger txn goes alone). The broadcast and the
// DIFF of a sync cut the same way, so a follower logs and ACKs a run as one append.
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { Proposal } from './api.js';
import type { PeerMessage } from './messages.js';

type ProposalsMessage = Extract<PeerMessage, { t: 'proposals' }>;

export function proposalMessages(proposals: readonly Proposal[]): PeerMessage[] {
  const out: PeerMessage[] = [];
  for (let i = 0; i < proposals.length; ) {
    const msg = proposalMessageFrom(proposals, i);
    out.push(msg);
    i += msg.txns.length;
  }
  return out;
}

/** One PROPOSALS message of the run starting at proposals[i], of at most `bytesMax` txn bytes
 *  unless its first txn alone is larger. Origins go only with `withOrigins`
 *  (a DIFF leaves them behind: the origin's clients were disconnected when it left its leader). */
export function proposalMessageFrom(proposals: readonly Proposal[], i: number, withOrigins = true, bytesMax: number = constants.zabProposalsMessageBytesMax): ProposalsMessage {
  assert(i < proposals.length, 'a PROPOSALS message of at least one txn');
  const first = proposals[i]!;
  const msg: ProposalsMessage = { t: 'proposals', zxid: first.zxid, txns: [], origins: [] };
  let bytes = 0;
  for (let j = i; j < proposals.length; j++) {
    const p = proposals[j]!;
    if (msg.txns.length > 0) {
      // A message is a run zxid, zxid+1, ...: a history that crosses into a later epoch starts a new one.
      if (p.zxid !== first.zxid + BigInt(msg.txns.length)) break;
      if (msg.txns.length >= constants.zabProposalsPerMessageMax || bytes + p.txn.byteLength > bytesMax) break;
    }
    msg.txns.push(p.txn);
    msg.origins.push(withOrigins ? p.origin : null);
    bytes += p.txn.byteLength;
  }
  return msg;
}
