// Who is queued on an election path: nodes sorted by sequence, the first leads (Curator's
// Participant). Shared by LeaderLatch and LeaderSelector.
import type { ZookooperClient } from '../../client/index.js';
import { isCode, sequenceOf, sortBySequence } from '../util.js';
import { joinPath, withRetry } from './common.js';

export interface Participant {
  /** The id the participant gave (its node's data). */
  id: string;
  isLeader: boolean;
  nodePath: string;
}

export async function participantsOf(zk: ZookooperClient, path: string, nameFilter: string): Promise<Participant[]> {
  let children: string[];
  try {
    children = await withRetry(zk, () => zk.getChildren(path));
  } catch (err) {
    if (isCode(err, 'NONODE')) return [];
    throw err;
  }
  const out: Participant[] = [];
  for (const name of sortBySequence(children.filter((c) => c.includes(nameFilter) && sequenceOf(c) >= 0))) {
    const nodePath = joinPath(path, name);
    try {
      const { data } = await withRetry(zk, () => zk.getData(nodePath));
      out.push({ id: data.toString('utf8'), isLeader: out.length === 0, nodePath });
    } catch (err) {
      if (!isCode(err, 'NONODE')) throw err; // left meanwhile
    }
  }
  return out;
}
