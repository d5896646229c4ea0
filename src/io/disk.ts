// The file operations storage needs (txn log, snapshots, recovery, purge, epoch files), so the
// same storage code runs on real files (src/io/node/disk.ts) and on a simulated disk that loses
// what was not fsynced when it "crashes" (test/io/sim-disk.ts).
//
// The durability contract both implementations keep (native-notes/fsync.md):
//   - write() puts bytes in the page cache: visible to reads at once, durable only after
//     datasync()/sync() on that file returned.
//   - a file's NAME (create, rename, unlink, mkdir) is durable only after fsyncDir() of the
//     directory holding it returned.
//   - a failed write or sync throws; after a failed sync the written-but-unsynced data may be
//     lost although a later sync succeeds (Linux drops the dirty pages: "fsyncgate"), so callers
//     must treat the first failure as final.
// Sync variants exist where blocking calls are the point: the log's inline write + fdatasync
// (faster than a thread-pool round trip), and the snapshot writer in its own worker thread.

/** 'r' read only; 'r+' read/write an existing file; 'w+' create or empty, then read/write. */
export type OpenMode = 'r' | 'r+' | 'w+';

export interface DiskFile {
  readonly path: string;
  /** Reads up to `length` bytes at `position` into into[offset..]; returns bytes read (0 at EOF). */
  read(into: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Positioned write; returns bytes written (may be fewer than asked: loop). */
  write(bytes: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  writeSync(bytes: Uint8Array, offset: number, length: number, position: number): number;
  /** fdatasync: the data and the size needed to read it back are durable. */
  datasync(): Promise<void>;
  datasyncSync(): void;
  /** fsync: data and all metadata (size after a truncate, allocation) are durable. */
  sync(): Promise<void>;
  syncSync(): void;
  size(): Promise<number>;
  truncate(bytes: number): Promise<void>;
  close(): Promise<void>;
  closeSync(): void;
}

export interface Disk {
  open(path: string, mode: OpenMode): Promise<DiskFile>;
  openSync(path: string, mode: OpenMode): DiskFile;
  /** The whole file. */
  readFile(path: string): Promise<Buffer>;
  /** Size in bytes of the file at path. */
  size(path: string): Promise<number>;
  /** Replaces `to` atomically if it exists. Durable after fsyncDir(dirname(to)). */
  rename(from: string, to: string): Promise<void>;
  renameSync(from: string, to: string): void;
  unlink(path: string): Promise<void>;
  unlinkSync(path: string): void;
  /** Names of the entries of a directory (files and directories), unordered. */
  list(dir: string): Promise<string[]>;
  /** mkdir -p; returns the first directory it created, undefined if all existed (as fs.mkdir). */
  mkdirp(dir: string): Promise<string | undefined>;
  /** Makes the directory's entries (creations, renames, deletions) durable. */
  fsyncDir(dir: string): Promise<void>;
  fsyncDirSync(dir: string): void;
}

/** Errors carry Node's codes on both disks, so callers can tell a missing file apart. */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}
