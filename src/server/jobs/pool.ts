// The piscina pool for background jobs (snapshot writing, purge). Created once by the
// composition root; `close()` on shutdown.
//
//   const jobs = createJobPool();
//   const path = await jobs.writeSnapshot({ dirs, zxid, meta, image: new Uint8Array(tree.buffer) });
//   await jobs.purge(dirs, { retain: 3 });
import { Piscina } from 'piscina';
import { assert } from '../../common/assert.js';
import type { DataDirs } from '../storage/layout.js';
import type { PurgeOptions, PurgeResult } from '../storage/purge.js';
import type { PurgeTask, TouchPagesTask, WriteSnapshotTask } from './storage-worker.js';

export interface JobPoolOptions {
  /** Default 2: snapshot writes are disk bound, one at a time is the common case. */
  maxThreads?: number;
}

export interface WriteSnapshotArgs extends WriteSnapshotTask {
  /**
   * Move (not copy) ArrayBuffer-backed meta/image to the worker. The caller's buffers are then
   * detached, so each view must cover its whole ArrayBuffer (never a pooled Buffer slice).
   * SharedArrayBuffer views are always shared, never copied.
   */
  transfer?: boolean;
}

export interface JobPool {
  writeSnapshot(args: WriteSnapshotArgs): Promise<string>;
  purge(dirs: DataDirs, options?: PurgeOptions): Promise<PurgeResult>;
  /** First-touches every page of a SharedArrayBuffer view's range on the job thread (storage-worker.ts). */
  touchPages(task: TouchPagesTask): Promise<number>;
  close(): Promise<void>;
}

const workerUrl = new URL('./storage-worker.js', import.meta.url).href;

export function createJobPool(options: JobPoolOptions = {}): JobPool {
  const maxThreads = options.maxThreads ?? 2;
  assert(maxThreads >= 1 && maxThreads <= 16, 'job pool threads within 1..16');
  const pool = new Piscina({ filename: workerUrl, minThreads: 1, maxThreads, idleTimeout: 60_000 });
  return {
    writeSnapshot(args) {
      const task: WriteSnapshotTask = { dirs: args.dirs, zxid: args.zxid, meta: args.meta, image: args.image };
      const transferList: ArrayBuffer[] = [];
      if (args.transfer === true) {
        for (const view of [args.meta, args.image]) {
          if (!(view instanceof Uint8Array) || view.buffer instanceof SharedArrayBuffer) continue;
          assert(view.byteOffset === 0 && view.byteLength === view.buffer.byteLength, 'a transferred view covers its whole ArrayBuffer');
          transferList.push(view.buffer);
        }
      }
      return pool.run(task, { name: 'writeSnapshot', transferList }) as Promise<string>;
    },
    purge(dirs, purgeOptions = {}) {
      const task: PurgeTask = { dirs, options: purgeOptions };
      return pool.run(task, { name: 'purge' }) as Promise<PurgeResult>;
    },
    touchPages(task) {
      assert(task.image.buffer instanceof SharedArrayBuffer, 'pages are touched in shared memory only');
      return pool.run(task, { name: 'touchPages' }) as Promise<number>;
    },
    close() {
      return pool.close();
    },
  };
}
