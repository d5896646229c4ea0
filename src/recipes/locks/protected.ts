// Curator's "protected" create: the node name starts with `_c_<uuid>-`, so a client whose create
// reached the server but whose answer was lost with the connection can find its own node after
// the reconnect instead of creating a second one (a sequential create cannot simply be retried:
// the orphan would sit in the lock queue, held by our live session, and block everyone).
import { randomUUID } from 'node:crypto';
import type { ZookooperClient } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import type { Data } from '../../common/types.js';
import { ensurePath } from '../util.js';
import { joinPath, lockConstants, sessionEnded, withRetry } from './common.js';

export const protectedPrefixHead = '_c_';

export function protectedPrefix(): string {
  return `${protectedPrefixHead}${randomUUID()}-`;
}

/**
 * Creates `parent/<protected prefix><name>` with `mode`, creating missing parents as containers
 * (the server removes them once empty, as Curator's creatingParentContainersIfNeeded). Returns the
 * created path. Bounded: createAttemptsMax tries.
 */
export async function createProtected(
  zk: ZookooperClient,
  parent: string,
  name: string,
  data: Data,
  mode: 'ephemeral_sequential' | 'ephemeral',
): Promise<string> {
  const prefix = protectedPrefix();
  let lastError: unknown = null;
  for (let attempt = 0; attempt < lockConstants.createAttemptsMax; attempt++) {
    try {
      return await zk.create(joinPath(parent, prefix + name), data, { mode });
    } catch (err) {
      lastError = err;
      if (!(err instanceof ZookooperError) || sessionEnded(zk)) throw err;
      if (err.code === 'NONODE') {
        await ensurePath(zk, parent, 'container'); // missing, or a container swept while empty
        continue;
      }
      if (err.code !== 'CONNECTIONLOSS') throw err;
      const found = await findProtected(zk, parent, prefix);
      if (found !== null) return found;
    }
  }
  throw lastError instanceof Error ? lastError : new ZookooperError('CONNECTIONLOSS', 'create failed', parent);
}

/** Our node under `parent` by its protected prefix, or null (the create never happened). */
export async function findProtected(zk: ZookooperClient, parent: string, prefix: string): Promise<string | null> {
  let children: string[];
  try {
    children = await withRetry(zk, () => zk.getChildren(parent));
  } catch (err) {
    if (err instanceof ZookooperError && err.code === 'NONODE') return null;
    throw err;
  }
  const mine = children.find((c) => c.startsWith(prefix));
  return mine === undefined ? null : joinPath(parent, mine);
}
