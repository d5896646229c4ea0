// The HTTP side of the client port: /health, /metrics (Prometheus text) and JSON state pages in
// the spirit of ZooKeeper's four-letter words (stat, mntr, cons). Pure functions of the figures
// the main thread and the answering worker hand in; the pages of every worker's connections and
// watches are gathered-pages.ts.
import type { ServerRole, ServerStats } from '../workers/messages.js';
import type { Gathered } from '../workers/reports.js';

export interface WorkerFigures {
  workerId: number;
  connections: number;
  watches: number;
  requestsServed: number;
  readsServed: number;
  writesForwarded: number;
  throttled: number;
  malformedFrames: number;
  /** Apps a certificate reload replaced that still serve connections (they go when those close). */
  retiredApps: number;
}

/** ZooKeeper's zk_peer_state: the server state as its QuorumPeer names it, and the Zab phase. */
function peerState(stats: ServerStats): string {
  const names: Record<ServerRole, string> = { standalone: 'standalone', leader: 'leading', follower: 'following', observer: 'observing', looking: 'looking' };
  const phase = stats.zabPhase ?? (stats.serverState === 'looking' ? 'election' : 'broadcast');
  return stats.serverState === 'standalone' ? 'standalone' : `${names[stats.serverState]} - ${phase}`;
}

/** In a quorum now: standalone always; an ensemble member when the driver says so and not looking. */
function inQuorum(stats: ServerStats): boolean {
  if (stats.serverState === 'standalone') return true;
  return stats.serverState !== 'looking' && stats.inQuorum !== false;
}

/** The ensemble fields present in the stats, in /stat's camelCase (nothing for standalone). */
function ensembleFields(stats: ServerStats): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (stats.serverState === 'standalone' && stats.epoch === undefined) return out;
  out.peerState = peerState(stats);
  out.inQuorum = inQuorum(stats);
  if (stats.epoch !== undefined) out.epoch = stats.epoch;
  if (stats.leaderId !== undefined) out.leaderId = stats.leaderId;
  if (stats.learners !== undefined) out.learners = stats.learners;
  return out;
}

export function healthPage(stats: ServerStats): { status: number; body: string } {
  const base = { serverState: stats.serverState, zxid: stats.zxid, ...ensembleFields(stats) };
  if (inQuorum(stats)) return { status: 200, body: JSON.stringify({ status: 'ok', ...base }) };
  const reason =
    stats.serverState === 'looking'
      ? 'not in a quorum: looking for a leader (election)'
      : `not in a quorum: ${peerState(stats)}, not serving yet`;
  return { status: 503, body: JSON.stringify({ status: 'unavailable', reason, ...base }) };
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
    ...ensembleFields(stats),
    worker: { id: worker.workerId, connections: worker.connections, received: worker.requestsServed },
  });
}

/** mntr's ensemble keys, flat as ZooKeeper's; the leader's learner figures only on the leader. */
function mntrEnsemble(stats: ServerStats): Record<string, unknown> {
  if (stats.serverState === 'standalone' && stats.epoch === undefined) return {};
  const out: Record<string, unknown> = { zk_peer_state: peerState(stats), zk_in_quorum: inQuorum(stats) };
  if (stats.epoch !== undefined) out.zk_epoch = stats.epoch;
  if (stats.leaderId !== undefined) out.zk_leader_id = stats.leaderId;
  if (stats.serverState === 'leader' && stats.learners !== undefined) {
    const ls = stats.learners;
    out.zk_followers = ls.length; // ZooKeeper 3.5's meaning: every connected learner
    out.zk_synced_followers = ls.filter((l) => l.synced && !l.observer).length;
    out.zk_synced_observers = ls.filter((l) => l.synced && l.observer).length;
    for (const l of ls) out[`zk_learner_${l.id}_lag_txns`] = l.lagTxns;
  }
  return out;
}

/**
 * `all`: every worker's counts (workers/gather.ts), as ZooKeeper's server-wide
 * zk_num_alive_connections and zk_watch_count; `zk_workers_not_answering` counts the workers
 * whose part is missing from them.
 */
export function mntrPage(stats: ServerStats, worker: WorkerFigures, all?: Gathered): string {
  return JSON.stringify({
    zk_version: 'zookooper',
    zk_server_state: stats.serverState,
    zk_znode_count: stats.nodes,
    ...(all !== undefined
      ? { zk_num_alive_connections: all.connectionCount, zk_watch_count: all.watchCount, zk_workers_not_answering: all.missing.length }
      : {}),
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
    zk_tls_retired_apps_this_worker: worker.retiredApps,
    zk_last_zxid: stats.zxid,
    ...mntrEnsemble(stats),
  });
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
  ensembleMetrics(stats, lines);
  return lines.join('\n') + '\n';
}

const roles: ServerRole[] = ['standalone', 'leader', 'follower', 'observer', 'looking'];

/** The ensemble gauges: the role as a one-hot state set (Prometheus' enum idiom), epoch, quorum, lags. */
function ensembleMetrics(stats: ServerStats, lines: string[]): void {
  const family = (name: string, help: string, samples: [string, number][]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples.map(([labels, v]) => `${name}${labels} ${v}`));
  };
  family('zookooper_server_state', 'The server role: 1 for the current one', roles.map((r) => [`{state="${r}"}`, r === stats.serverState ? 1 : 0]));
  family('zookooper_in_quorum', '1 when the server is in a quorum (serving), else 0', [['', inQuorum(stats) ? 1 : 0]]);
  const zxid = BigInt(stats.zxid);
  family('zookooper_last_zxid_epoch', 'Epoch (high 32 bits) of the last applied zxid', [['', Number(zxid >> 32n)]]);
  family('zookooper_last_zxid_counter', 'Counter (low 32 bits) of the last applied zxid', [['', Number(zxid & 0xffffffffn)]]);
  if (stats.epoch !== undefined) family('zookooper_epoch', 'Current epoch', [['', stats.epoch]]);
  if (stats.leaderId !== undefined) family('zookooper_leader_id', 'Id of the current leader, -1 while looking', [['', stats.leaderId ?? -1]]);
  if (stats.serverState !== 'leader' || stats.learners === undefined) return;
  const ls = stats.learners;
  family('zookooper_learners', 'Learners connected to this leader', [['', ls.length]]);
  family('zookooper_synced_followers', 'Followers synced with this leader', [['', ls.filter((l) => l.synced && !l.observer).length]]);
  family('zookooper_synced_observers', 'Observers synced with this leader', [['', ls.filter((l) => l.synced && l.observer).length]]);
  if (ls.length > 0) {
    family('zookooper_learner_lag_txns', 'Txns a learner is behind the leader', ls.map((l) => [`{learner="${l.id}",observer="${l.observer}",synced="${l.synced}"}`, l.lagTxns]));
  }
}
