// Zab's two persisted epochs, as ZooKeeper keeps them: `acceptedEpoch` (the last epoch this
// server agreed to in discovery: it will not follow an older leader) and `currentEpoch` (the
// epoch of the leader whose history it has accepted as its own, written before it ACKs
// NEWLEADER). Decimal text without a newline (as ZooKeeper writes them) in the data dir's
// version-2/ folder, each replaced atomically.
import { assert } from '../../common/assert.js';
import { zxidEpoch } from '../../common/zxid.js';
import { readSmallFile, writeFileDurably } from './durable-file.js';
import type { StorageLayout } from './layout.js';

export const acceptedEpochFile = 'acceptedEpoch';
export const currentEpochFile = 'currentEpoch';
const epochMax = 0xffffffff; // the high 32 bits of a zxid

export interface Epochs {
  acceptedEpoch: number;
  currentEpoch: number;
}

export class EpochFileError extends Error {
  override name = 'EpochFileError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`epoch file ${path}: ${reason}. Refusing to start; fix or remove it (it is then derived from the log).`);
  }
}

function parseEpoch(path: string, buf: Buffer): number {
  const text = buf.toString('utf8').trim();
  if (!/^[0-9]{1,10}$/.test(text)) throw new EpochFileError(path, `not a decimal epoch: ${JSON.stringify(text.slice(0, 20))}`);
  const n = Number(text);
  if (n > epochMax) throw new EpochFileError(path, `epoch ${n} above ${epochMax}`);
  return n;
}

/**
 * The persisted epochs. A missing file is derived as ZooKeeper does (QuorumPeer.loadDataBase):
 * currentEpoch = the epoch of the last logged zxid, acceptedEpoch = currentEpoch. A file that
 * exists but does not parse is an error, never silently replaced.
 */
export async function readEpochs(layout: StorageLayout, lastLoggedZxid: bigint): Promise<Epochs & { derived: boolean }> {
  const dir = layout.snapDir;
  const cur = await readSmallFile(layout.disk, dir, currentEpochFile);
  const acc = await readSmallFile(layout.disk, dir, acceptedEpochFile);
  const currentEpoch = cur === null ? zxidEpoch(lastLoggedZxid) : parseEpoch(`${dir}/${currentEpochFile}`, cur);
  const acceptedEpoch = acc === null ? currentEpoch : parseEpoch(`${dir}/${acceptedEpochFile}`, acc);
  if (acceptedEpoch < currentEpoch) throw new EpochFileError(`${dir}/${acceptedEpochFile}`, `acceptedEpoch ${acceptedEpoch} below currentEpoch ${currentEpoch}`);
  return { acceptedEpoch, currentEpoch, derived: cur === null || acc === null };
}

/**
 * Writes both files durably. acceptedEpoch goes first: currentEpoch <= acceptedEpoch holds in
 * every state a crash can leave, given it holds for the old and the new values.
 */
export async function writeEpochs(layout: StorageLayout, epochs: Epochs): Promise<void> {
  const { acceptedEpoch, currentEpoch } = epochs;
  assert(Number.isInteger(acceptedEpoch) && acceptedEpoch >= 0 && acceptedEpoch <= epochMax, 'acceptedEpoch is u32');
  assert(Number.isInteger(currentEpoch) && currentEpoch >= 0 && currentEpoch <= epochMax, 'currentEpoch is u32');
  assert(currentEpoch <= acceptedEpoch, () => `currentEpoch ${currentEpoch} <= acceptedEpoch ${acceptedEpoch}`);
  await writeFileDurably(layout.disk, layout.snapDir, acceptedEpochFile, Buffer.from(String(acceptedEpoch)));
  await writeFileDurably(layout.disk, layout.snapDir, currentEpochFile, Buffer.from(String(currentEpoch)));
}
