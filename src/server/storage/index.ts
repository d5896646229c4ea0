// The storage module's public surface: txn log, snapshots, recovery, purge, layout.
export { type DataDirs, type StorageLayout, storageLayout, ensureLayout, listLogSegments, listSnapshots } from './layout.js';
export { storageLimits } from './limits.js';
export { type LogState, type LogTail, openTxnLog, TxnLog, type TxnLogOptions } from './txnlog.js';
export { type LoadedSnapshot, loadNewestSnapshot, loadSnapshotFile, type ImageSource, type SnapshotContent, SnapshotCorruptError, writeSnapshotFile, writeSnapshotFileSync } from './snapshot.js';
export { type Epochs, EpochFileError, readEpochs, writeEpochs } from './epochs.js';
export { completeIntent, type InstallResult, installSnapshot, type Intent, IntentFileError, TruncateError, truncateLog, type TruncateResult } from './history.js';
export { LogCorruptError, type Recovery, type RecoveryProgress, type RecoveryWarning, type RecoverOptions, recover } from './recovery.js';
export { purge, purgePlan, type PurgeOptions, type PurgeResult, snapRetainCountMin } from './purge.js';
export { HistoryWindow } from './history-window.js';
