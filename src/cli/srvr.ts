// `zookooper cli [-s h1:p1,h2:p2] srvr`: ZooKeeper's `srvr` four-letter word for every listed
// server, read from its HTTP /stat page (no session is opened, so it also answers for a server
// that is looking for a leader and refuses clients). One block per server, in ZooKeeper's text;
// the ensemble lines (epoch, leader, learners and their lag) follow ZooKeeper's own.
import { parseConnectString, type HostPort } from '../client/connect-string.js';
import { constants } from '../common/constants.js';
import type { CliIo } from './zkcli.js';

/** The /stat fields srvr prints (see src/server/http/pages.ts statPage). */
export interface StatFields {
  version?: string;
  serverState?: string;
  zxid?: string;
  nodeCount?: number;
  outstandingWrites?: number;
  epoch?: number;
  leaderId?: number | null;
  inQuorum?: boolean;
  peerState?: string;
  learners?: { id: number; observer: boolean; synced: boolean; lagTxns: number }[];
  worker?: { id?: number; connections?: number; received?: number };
  workers?: number;
}

const modes: Record<string, string> = { standalone: 'standalone', leader: 'leader', follower: 'follower', observer: 'observer', looking: 'looking' };

/** ZooKeeper's srvr text for one /stat answer. Figures /stat does not have are printed as n/a. */
export function formatSrvr(st: StatFields): string {
  const w = st.worker ?? {};
  // The HTTP request is answered by one session worker: its own connection figures, said so.
  const perWorker = w.id !== undefined ? ` (session worker ${w.id})` : '';
  const lines = [
    `Zookeeper version: ${st.version ?? 'unknown'}`,
    'Latency min/avg/max: n/a',
    `Received: ${w.received ?? 'n/a'}${perWorker}`,
    'Sent: n/a',
    `Connections: ${w.connections ?? 'n/a'}${perWorker}`,
    `Outstanding: ${st.outstandingWrites ?? 'n/a'}`,
    `Zxid: ${st.zxid ?? 'n/a'}`,
    `Mode: ${modes[st.serverState ?? ''] ?? st.serverState ?? 'unknown'}`,
    `Node count: ${st.nodeCount ?? 'n/a'}`,
  ];
  if (st.epoch !== undefined) lines.push(`Epoch: ${st.epoch}`);
  if (st.leaderId !== undefined) lines.push(`Leader: ${st.leaderId ?? 'none'}`);
  if (st.peerState !== undefined) lines.push(`Peer state: ${st.peerState}${st.inQuorum === false ? ' (not in a quorum)' : ''}`);
  for (const l of st.learners ?? []) {
    lines.push(`Learner ${l.id}: ${l.observer ? 'observer' : 'follower'}, ${l.synced ? 'synced' : 'syncing'}, lag ${l.lagTxns} txns`);
  }
  return lines.join('\n') + '\n';
}

function url(hp: HostPort, path: string): string {
  const host = hp.host.includes(':') ? `[${hp.host}]` : hp.host;
  return `http://${host}:${hp.port}${path}`;
}

/** GETs /stat of one server; throws with a short reason (refused, timeout, bad answer). */
export async function fetchStat(hp: HostPort, timeoutMs = constants.statusRequestTimeoutMs): Promise<StatFields> {
  let res: Response;
  try {
    res = await fetch(url(hp, '/stat'), { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new Error(e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message));
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.trim().slice(0, 200)}`);
  try {
    return JSON.parse(text) as StatFields;
  } catch {
    throw new Error(`not a /stat answer: ${text.slice(0, 200)}`);
  }
}

/** Prints srvr for every server of the connect string; exit status 1 if any did not answer. */
export async function runSrvr(servers: string, io: CliIo): Promise<number> {
  let hosts: HostPort[];
  try {
    hosts = parseConnectString(servers).hosts;
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const answers = await Promise.allSettled(hosts.map((hp) => fetchStat(hp)));
  let failed = 0;
  answers.forEach((a, i) => {
    const hp = hosts[i]!;
    if (hosts.length > 1) io.stdout.write(`${i > 0 ? '\n' : ''}Server: ${hp.host}:${hp.port}\n`);
    if (a.status === 'fulfilled') io.stdout.write(formatSrvr(a.value));
    else {
      failed++;
      io.stderr.write(`${hp.host}:${hp.port}: cannot read /stat: ${(a.reason as Error).message}\n`);
      if (hosts.length > 1) io.stdout.write('Error: not answering\n');
    }
  });
  return failed > 0 ? 1 : 0;
}
