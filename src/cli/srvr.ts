// `zookooper cli [-s h1:p1,h2:p2] srvr`: ZooKeeper's `srvr` four-letter word for every listed
// server, read from its HTTP /stat page (no session is opened, so it also answers for a server
// that is looking for a leader and refuses clients). One block per server, in ZooKeeper's text;
// the ensemble lines (epoch, leader, learners and their lag) follow ZooKeeper's own.
import type { IncomingMessage } from 'node:http';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { parseConnectString, type HostPort } from '../client/connect-string.js';
import type { TlsOptions } from '../client/options.js';
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

/** How the CLI reaches a server's HTTP pages: TLS material for https, an admin user for Basic auth. */
export interface PageAccess {
  tls: TlsOptions | null;
  /** `name:password` of an --admin-users user (admin pages answer 401 without one when set). */
  user: string | null;
}
const plainAccess: PageAccess = { tls: null, user: null };

/** GETs one page: status and body, or throws with a short reason (refused, timeout). */
function getPage(hp: HostPort, path: string, access: PageAccess, timeoutMs: number): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = access.user === null ? {} : { authorization: `Basic ${Buffer.from(access.user).toString('base64')}` };
  const options = { host: hp.host, port: hp.port, path, headers, timeout: timeoutMs };
  return new Promise((resolve, reject) => {
    const onAnswer = (res: IncomingMessage): void => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (text.length > constants.statusPageBytesMax) req.destroy(new Error(`an answer over ${constants.statusPageBytesMax} bytes`));
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', (e) => reject(new Error(e.message)));
    };
    const req = access.tls === null ? httpGet(options, onAnswer) : httpsGet({ ...options, ...access.tls }, onAnswer);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: Error & { code?: string }) => reject(new Error(e.code !== undefined && !/no answer/.test(e.message) ? `${e.code}: ${e.message}` : e.message)));
  });
}

/** A 401 from an admin page: the server has --admin-users, and no user or a refused one was sent. */
export class PageAuthError extends Error {
  override name = 'PageAuthError';
  constructor(
    message: string,
    /** Whether a user was sent (and refused), or none. */
    readonly userSent: boolean,
  ) {
    super(message);
  }
}

/** GETs /stat of one server; throws with a short reason (refused, timeout, bad answer, 401). */
export async function fetchStat(hp: HostPort, timeoutMs = constants.statusRequestTimeoutMs, access: PageAccess = plainAccess): Promise<StatFields> {
  const res = await getPage(hp, '/stat', access, timeoutMs);
  if (res.status === 401) {
    throw access.user === null
      ? new PageAuthError('HTTP 401: the server wants an admin user (--admin-users): pass --user NAME:PASSWORD', false)
      : new PageAuthError('HTTP 401: the admin user or password given with --user is not accepted', true);
  }
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.trim().slice(0, 200)}`);
  try {
    return JSON.parse(res.text) as StatFields;
  } catch {
    throw new Error(`not a /stat answer: ${res.text.slice(0, 200)}`);
  }
}

/** Prints srvr for every server of the connect string; exit status 1 if any did not answer. */
export async function runSrvr(servers: string, io: CliIo, access: PageAccess = plainAccess): Promise<number> {
  let hosts: HostPort[];
  try {
    hosts = parseConnectString(servers).hosts;
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const answers = await Promise.allSettled(hosts.map((hp) => fetchStat(hp, constants.statusRequestTimeoutMs, access)));
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
