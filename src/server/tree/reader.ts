// Readers in any thread (session workers, piscina jobs) reading the writer's memory in place.
//
// Seqlock read section (see native-notes/shared-memory.md):
//   s1 = Atomics.load(SEQ)            odd -> the writer is inside a window: wait, then again
//   ...plain reads, each ref/length bounds-checked; an impossible value returns RETRY...
//   [fence on weakly ordered CPUs]
//   s2 = Atomics.load(SEQ)            s2 !== s1 -> the writer touched memory meanwhile: retry
// A result is returned only when s1 === s2 and s1 is even: no write window overlapped the reads,
// so they saw exactly the state published by the endWrite that stored s1.
import { isMainThread } from 'node:worker_threads';
import { AssertionError, assert } from '../../common/assert.js';
import type { ACL, Stat } from '../../common/types.js';
import type { ChildrenRead, NodeRead, TreeReader, TreeView, Versioned } from './api.js';
import { RETRY, TreeMemory, type Retry } from './core.js';
import * as L from './layout.js';

/** A read that cannot complete after this many attempts is a bug (or a writer stuck mid-window). */
const ATTEMPTS_MAX = 1_000_000;
const WAIT_MS = 1; // upper bound of one Atomics.wait; endWrite notifies, so usually much shorter

// x86 keeps loads in order and V8 emits no reordering around Atomics, so the second seq load is
// ordered after the data loads. On weakly ordered CPUs (arm64: Atomics.load is LDAR, which lets
// earlier plain loads pass it) an SC store to a private word (STLR) orders them first.
const FENCE_NEEDED = process.arch !== 'x64' && process.arch !== 'ia32';

/** Thrown inside a batch section to abandon an attempt; never escapes batch(). */
const RETRY_SIGNAL = { retry: true } as const;

export interface ReaderOptions {
  /**
   * TEST ONLY: skip the seqlock (no wait, no re-check). Exists so the threads test can prove it
   * detects torn reads when the protocol is off. Never set it in the server.
   */
  unsafeNoSeqlock?: boolean;
}

export class SharedTreeReader implements TreeReader {
  private readonly m: TreeMemory;
  private readonly seqlock: boolean;
  private readonly canWait = !isMainThread;
  private readonly fenceWord = new Int32Array(new SharedArrayBuffer(4));
  private readonly aclCache: ACL[][] = [];
  private readonly view: TreeView;
  /** Read sections retried (statistics, and the threads test checks the protocol was exercised). */
  retries = 0;

  constructor(buffer: SharedArrayBuffer, opts: ReaderOptions = {}) {
    this.m = new TreeMemory(buffer);
    this.seqlock = opts.unsafeNoSeqlock !== true;
    const u32 = this.m.u32;
    assert(u32.length > L.H_FREE_HEADS, 'attachTree: buffer smaller than a tree header');
    assert(u32[L.H_MAGIC] === L.MAGIC, 'attachTree: not a tree buffer (bad magic)');
    assert(u32[L.H_VERSION] === L.FORMAT_VERSION, 'attachTree: tree format version mismatch');
    const m = this.m;
    this.view = {
      stat: (p) => this.must(statAt(m, p)),
      getData: (p, withData) => this.must(nodeAt(m, p, withData ?? true)),
      getChildren: (p) => this.must(childrenAt(m, p)),
      countDescendants: (p) => this.must(descendantsAt(m, p)),
    };
  }

  appliedZxid(): bigint {
    return this.section(() => this.m.appliedZxid()).value;
  }

  stat(path: string): Versioned<Stat | null> {
    return this.section(() => statAt(this.m, path));
  }

  getData(path: string, withData = true): Versioned<NodeRead | null> {
    return this.section(() => nodeAt(this.m, path, withData));
  }

  getChildren(path: string): Versioned<ChildrenRead | null> {
    return this.section(() => childrenAt(this.m, path));
  }

  countDescendants(path: string): Versioned<number | null> {
    return this.section(() => descendantsAt(this.m, path));
  }

  batch<T>(fn: (view: TreeView) => T): Versioned<T> {
    const view = this.view;
    return this.section(() => fn(view), true);
  }

  acl(aclIndex: number): ACL[] {
    const cached = this.aclCache[aclIndex];
    if (cached !== undefined) return cached;
    assert(Number.isInteger(aclIndex) && aclIndex >= 0, 'acl: bad index');
    const m = this.m;
    const acl = this.section(() => (aclIndex < m.u32[L.H_ACL_COUNT]! ? m.aclAt(aclIndex) : null)).value;
    assert(acl !== null, () => `acl: no ACL list ${aclIndex}`);
    // Interned lists never change, so the decoded copy is valid forever.
    const frozen = Object.freeze(acl.map((a) => Object.freeze(a))) as ACL[];
    this.aclCache[aclIndex] = frozen;
    return frozen;
  }

  nodeCount(): number {
    return this.section(() => this.m.u32[L.H_NODE_COUNT]!).value;
  }

  // ---- seqlock ----

  /** Runs `read` until it completes inside one seqlock section (see the file comment). */
  private section<T>(read: () => T | Retry, catchErrors = false): Versioned<T> {
    const i32 = this.m.i32;
    for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
      const s1 = Atomics.load(i32, L.H_SEQ);
      if ((s1 & 1) === 1 && this.seqlock) {
        this.wait(s1);
        continue;
      }
      this.m.maybeRefresh();
      let v: T | Retry;
      try {
        v = read();
      } catch (e) {
        // A torn state can make user code in batch() throw; only a consistent throw is real.
        if (e !== RETRY_SIGNAL && (!catchErrors || this.stable(s1))) throw e;
        v = RETRY;
      }
      const zxid = this.m.appliedZxid();
      if (!this.seqlock) {
        if (v !== RETRY) return { zxid, value: v as T };
        continue;
      }
      if (this.stable(s1) && v !== RETRY) return { zxid, value: v as T };
      this.retries++;
    }
    throw new AssertionError(`tree read did not complete in ${ATTEMPTS_MAX} attempts (writer stuck in a window?)`);
  }

  private stable(s1: number): boolean {
    if (FENCE_NEEDED) Atomics.store(this.fenceWord, 0, 0);
    return Atomics.load(this.m.i32, L.H_SEQ) === s1;
  }

  private wait(odd: number): void {
    // Atomics.wait is not allowed on the main thread: spin there (the attempt bound still holds).
    if (!this.canWait) return;
    const i32 = this.m.i32;
    Atomics.add(i32, L.H_WAITERS, 1);
    Atomics.wait(i32, L.H_SEQ, odd, WAIT_MS);
    Atomics.sub(i32, L.H_WAITERS, 1);
  }

  private must<T>(v: T | Retry): T {
    if (v === RETRY) throw RETRY_SIGNAL;
    return v as T;
  }
}

function statAt(m: TreeMemory, path: string): Stat | null | Retry {
  const ref = m.lookup(path);
  if (ref === RETRY || ref === 0) return ref === 0 ? null : RETRY;
  return m.stat(ref);
}

function nodeAt(m: TreeMemory, path: string, withData: boolean): NodeRead | null | Retry {
  const ref = m.lookup(path);
  if (ref === RETRY || ref === 0) return ref === 0 ? null : RETRY;
  const data = withData ? m.data(ref) : Buffer.alloc(0);
  if (data === RETRY) return RETRY;
  return { stat: m.stat(ref), data, aclIndex: m.u32[ref * 2 + L.N_ACL]! };
}

function childrenAt(m: TreeMemory, path: string): ChildrenRead | null | Retry {
  const ref = m.lookup(path);
  if (ref === RETRY || ref === 0) return ref === 0 ? null : RETRY;
  const children = m.children(ref);
  if (children === RETRY) return RETRY;
  return { children, stat: m.stat(ref), aclIndex: m.u32[ref * 2 + L.N_ACL]! };
}

function descendantsAt(m: TreeMemory, path: string): number | null | Retry {
  const ref = m.lookup(path);
  if (ref === RETRY || ref === 0) return ref === 0 ? null : RETRY;
  return m.countDescendants(ref);
}
