// The real Disk: node:fs. Async calls run on libuv's thread pool; the *Sync ones block the
// calling thread (the log's inline fast path, the snapshot job's worker thread).
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import type { Disk, DiskFile, OpenMode } from '../disk.js';

class NodeFile implements DiskFile {
  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}
  async read(into: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.read(into, offset, length, position)).bytesRead;
  }
  async write(bytes: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.write(bytes, offset, length, position)).bytesWritten;
  }
  writeSync(bytes: Uint8Array, offset: number, length: number, position: number): number {
    return writeSync(this.fh.fd, bytes, offset, length, position);
  }
  datasync(): Promise<void> {
    return this.fh.datasync();
  }
  datasyncSync(): void {
    fdatasyncSync(this.fh.fd);
  }
  sync(): Promise<void> {
    return this.fh.sync();
  }
  syncSync(): void {
    fsyncSync(this.fh.fd);
  }
  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }
  truncate(bytes: number): Promise<void> {
    return this.fh.truncate(bytes);
  }
  close(): Promise<void> {
    return this.fh.close();
  }
  closeSync(): void {
    // Closing the fd under the FileHandle would make it close a reused fd number later.
    void this.fh.close();
  }
}

/**
 * A file opened with a blocking open (the snapshot job's worker thread): every call blocks,
 * the async ones too (they resolve after the blocking call returned).
 */
class NodeSyncFile implements DiskFile {
  constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}
  read(into: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return Promise.resolve(readSync(this.fd, into, offset, length, position));
  }
  write(bytes: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return Promise.resolve(this.writeSync(bytes, offset, length, position));
  }
  writeSync(bytes: Uint8Array, offset: number, length: number, position: number): number {
    return writeSync(this.fd, bytes, offset, length, position);
  }
  datasync(): Promise<void> {
    this.datasyncSync();
    return Promise.resolve();
  }
  datasyncSync(): void {
    fdatasyncSync(this.fd);
  }
  sync(): Promise<void> {
    this.syncSync();
    return Promise.resolve();
  }
  syncSync(): void {
    fsyncSync(this.fd);
  }
  size(): Promise<number> {
    return Promise.resolve(fstatSync(this.fd).size);
  }
  truncate(bytes: number): Promise<void> {
    ftruncateSync(this.fd, bytes);
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closeSync();
    return Promise.resolve();
  }
  closeSync(): void {
    closeSync(this.fd);
  }
}

export const nodeDisk: Disk = {
  async open(path: string, mode: OpenMode) {
    return new NodeFile(path, await open(path, mode));
  },
  openSync(path: string, mode: OpenMode) {
    return new NodeSyncFile(path, openSync(path, mode));
  },
  readFile: (path) => readFile(path),
  size: async (path) => (await stat(path)).size,
  rename: (from, to) => rename(from, to),
  renameSync: (from, to) => renameSync(from, to),
  unlink: (path) => unlink(path),
  unlinkSync: (path) => unlinkSync(path),
  list: (dir) => readdir(dir),
  mkdirp: (dir) => mkdir(dir, { recursive: true }),
  async fsyncDir(dir) {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  fsyncDirSync(dir) {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
};
