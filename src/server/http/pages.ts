// The HTTP side of the client port: /health, /metrics (Prometheus text) and JSON state pages in
// the spirit of ZooKeeper's four-letter words (stat, mntr, cons). Pure functions of the figures
// the main thread and the answering worker hand in.
import type { ServerStats } from '../workers/messages.js';

export interface WorkerFigures {
  workerId: number;
  connections: number;
  watches: number;
  requestsServed: number;
  readsServed: number;
  writesForwarded: number;
  throttled: number;
  malformedFrames: number;
  connectionList: { remote: string; sessionId: string; queued: number; watches: number; received: number; sent: number }[];
}

export function healthPage(stats: ServerStats): { status: number; body: string } {
  return { status: 200, body: JSON.stringify({ status: 'ok', serverState: stats.serverState, zxid: stats.zxid }) };
}

export function statPage(stats: ServerStats, worker: WorkerFigures): string {
  return JSON.stringify({
    version: 'zookooper',
    serverState: stats.serverState,
    zxid: stats.zxid,
    nodeCount: stats.nodes,
    sessions: stats.sessions,
    outstandingWrites: stats.pendingWrites,
    uptimeMs: Date.now() - stats.startedAtMs,
    worker: { id: worker.workerId, connections: worker.connections, received: worker.requestsServed },
  });
}

export function mntrPage(stats: ServerStats, worker: WorkerFigures): string {
  return JSON.stringify({
    zk_version: 'zookooper',
    zk_server_state: stats.serverState,
    zk_znode_count: stats.nodes,
    zk_watch_count_this_worker: worker.watches,
    zk_num_alive_connections_this_worker: worker.connections,
    zk_outstanding_requests: stats.pendingWrites,
    zk_sessions: stats.sessions,
    zk_approximate_data_size: stats.treeUsedBytes,
    zk_tree_capacity_bytes: stats.treeCapacityBytes,
    zk_committed_txns: stats.committedTxns,
    zk_log_syncs: stats.logSyncs,
    zk_log_sync_ms_total: stats.logSyncMs,
    zk_commit_ms_total: stats.commitMs,
    zk_workers: stats.workers,
    zk_throttled_requests_this_worker: worker.throttled,
    zk_malformed_frames_this_worker: worker.malformedFrames,
    zk_last_zxid: stats.zxid,
  });
}

export function consPage(worker: WorkerFigures): string {
  return JSON.stringify({ workerId: worker.workerId, connections: worker.connectionList });
}

export function metricsPage(stats: ServerStats, worker: WorkerFigures): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number, labels = ''): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}${labels} ${value}`);
  };
  const counter = (name: string, help: string, value: number, labels = ''): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name}${labels} ${value}`);
  };
  const w = `{worker="${worker.workerId}"}`;
  gauge('zookooper_znodes', 'Number of znodes in the tree', stats.nodes);
  gauge('zookooper_sessions', 'Live sessions', stats.sessions);
  gauge('zookooper_outstanding_writes', 'Writes submitted to the pipeline and not yet committed', stats.pendingWrites);
  gauge('zookooper_tree_used_bytes', 'Bytes of the shared tree in use', stats.treeUsedBytes);
  gauge('zookooper_tree_capacity_bytes', 'Bytes of the shared tree allocated', stats.treeCapacityBytes);
  counter('zookooper_committed_txns_total', 'Transactions committed since start', stats.committedTxns);
  counter('zookooper_log_syncs_total', 'fdatasync calls on the txn log since start', stats.logSyncs);
  counter('zookooper_log_sync_seconds_total', 'Time spent in txn log write + fdatasync', stats.logSyncMs / 1000);
  counter('zookooper_commit_seconds_total', 'Time spent applying and publishing committed batches', stats.commitMs / 1000);
  gauge('zookooper_worker_connections', 'Client connections of the answering worker', worker.connections, w);
  gauge('zookooper_worker_watches', 'Watch registrations of the answering worker', worker.watches, w);
  counter('zookooper_worker_requests_total', 'Requests received by the answering worker', worker.requestsServed, w);
  counter('zookooper_worker_throttled_total', 'Requests answered THROTTLEDOP by the answering worker', worker.throttled, w);
  counter('zookooper_worker_malformed_frames_total', 'Connections closed for malformed frames', worker.malformedFrames, w);
  return lines.join('\n') + '\n';
}
