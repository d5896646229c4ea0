// InterProcessReadWriteLock (Curator's): two mutexes queued under one path, `__READ__` and
// `__WRITE__` nodes sorted together by sequence number.
//   writer: holds when its node is first of all; watches the node just before it (any kind).
//   reader: holds when no write node is before it; watches the first write node before it.
//           Every reader behind one writer wakes when that writer leaves: they may all hold at
//           once, so waking them together is the point, not a herd.
// Downgrade: the holder of the write lock may take the read lock (it holds at once), then release
// the write lock. Upgrade (read -> write) is not possible: the writer would wait for itself.
import type { ZookooperClient } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import { InterProcessMutex, type MutexOptions } from './mutex.js';
import { standardDriver, type LockDriver } from './lock-internals.js';

export const readLockName = '__READ__';
export const writeLockName = '__WRITE__';

export class InterProcessReadWriteLock {
  private readonly write: InterProcessMutex;
  private readonly read: InterProcessMutex;

  constructor(zk: ZookooperClient, path: string, opts: MutexOptions = {}) {
    this.write = new InterProcessMutex(zk, path, opts, { lockName: writeLockName, maxLeases: 1, driver: standardDriver });
    const readDriver: LockDriver = {
      getsTheLock: (children, ourName) => {
        // Curator: the writer holding the lock through this object may also read (downgrade).
        if (this.write.isAcquiredInThisProcess()) return { acquired: true };
        let firstWrite = -1;
        for (let i = 0; i < children.length; i++) {
          const name = children[i]!;
          if (name === ourName) {
            return firstWrite < 0 ? { acquired: true } : { acquired: false, watch: children[firstWrite]! };
          }
          if (firstWrite < 0 && name.includes(writeLockName)) firstWrite = i;
        }
        throw new ZookooperError('NONODE', 'our lock node is gone (session expired or node deleted)', ourName);
      },
    };
    this.read = new InterProcessMutex(zk, path, opts, { lockName: readLockName, maxLeases: Number.MAX_SAFE_INTEGER, driver: readDriver });
  }

  /** The read lock: shared among readers, excluded by any earlier writer. Re-entrant per instance. */
  readLock(): InterProcessMutex {
    return this.read;
  }

  /** The write lock: exclusive. Re-entrant per instance. */
  writeLock(): InterProcessMutex {
    return this.write;
  }
}
