// Runs a storage test on both disks: real files in a temp dir (node Disk) and the simulated one.
import type { Disk } from '../../src/io/disk.js';
import { nodeDisk } from '../../src/io/node/disk.js';
import { SimDisk } from '../io/sim-disk.js';
import { tempDir } from './helpers.js';

export interface DiskCase {
  name: string;
  /** A fresh, empty data dir on a fresh disk. */
  setup(t: { after: (fn: () => Promise<void>) => void }): Promise<{ disk: Disk; dataDir: string }>;
}

export const diskCases: DiskCase[] = [
  { name: 'node disk', setup: async (t) => ({ disk: nodeDisk, dataDir: await tempDir(t) }) },
  {
    name: 'sim disk',
    setup: () => {
      const disk = new SimDisk(1);
      disk.mkdirDurable('/data');
      return Promise.resolve({ disk, dataDir: '/data' });
    },
  },
];
