// ZooKeeper's four-letter words on the jute port: a connection whose first four bytes are a word
// (instead of a frame length) gets the word's text and is closed, as ZooKeeper's
// NIOServerCnxn.checkFourLetterWord. Only words in the whitelist (4lw.commands.whitelist) run;
// another gets ZooKeeper's refusal line. Figures of connections and watches are this worker's:
// it holds every jute connection, while the native ones are spread over all workers.
import { hostname, platform, release, arch, userInfo } from 'node:os';
import { formatSrvr, type StatFields } from '../../cli/srvr.js';
import { mntrPage, statPage, type WorkerFigures } from '../http/pages.js';
import { constants } from '../../common/constants.js';
import type { Conn } from './conn.js';
import type { ServerStats } from './messages.js';

export const fourLetterWords = ['ruok', 'srvr', 'stat', 'mntr', 'cons', 'wchs', 'wchc', 'envi', 'conf', 'isro', 'dump'] as const;
export type FourLetterWord = (typeof fourLetterWords)[number];

const byCode = new Map<number, FourLetterWord>(fourLetterWords.map((w) => [Buffer.from(w, 'ascii').readInt32BE(0), w]));

/** The word whose four ASCII bytes read as this big-endian int32 (a frame length), if any. */
export function fourLetterWordOf(code: number): FourLetterWord | undefined {
  return byCode.get(code);
}

export interface FourLetterContext {
  whitelist: readonly string[];
  conf: readonly [string, string | number][];
  /** The main thread's figures; `dump`: with the session table and ephemerals. */
  stats(dump?: boolean): Promise<ServerStats>;
  figures(): WorkerFigures;
  conns(): Iterable<Conn>;
}

export function whitelisted(word: string, whitelist: readonly string[]): boolean {
  return whitelist.includes('*') || whitelist.includes(word);
}

export async function fourLetterAnswer(word: FourLetterWord, ctx: FourLetterContext): Promise<string> {
  if (!whitelisted(word, ctx.whitelist)) return `${word} is not executed because it is not in the whitelist.\n`;
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'isro':
      return 'rw'; // zookooper has no read-only mode
    case 'srvr':
      return srvr(await ctx.stats(), ctx.figures());
    case 'stat': {
      const text = srvr(await ctx.stats(), ctx.figures());
      const [first, ...rest] = text.split('\n');
      return [first, 'Clients:', ...consLines(ctx.conns()), '', ...rest].join('\n');
    }
    case 'mntr': {
      const m = JSON.parse(mntrPage(await ctx.stats(), ctx.figures())) as Record<string, unknown>;
      return Object.entries(m).map(([k, v]) => `${k}\t${String(v)}`).join('\n') + '\n';
    }
    case 'cons':
      return consLines(ctx.conns()).join('\n') + '\n\n';
    case 'wchs': {
      const { sessions, paths, total } = watchSummary(ctx.conns());
      return `${sessions.size} connections watching ${paths.size} paths\nTotal watches:${total}\n`;
    }
    case 'wchc': {
      const { sessions } = watchSummary(ctx.conns());
      let out = '';
      for (const [sid, ps] of sessions) out += `0x${sid.toString(16)}\n${[...ps].map((p) => `\t${p}\n`).join('')}`;
      return out + '\n';
    }
    case 'envi':
      return [
        'Environment:',
        'zookeeper.version=zookooper',
        `host.name=${hostname()}`,
        `node.version=${process.version}`,
        `os.name=${platform()}`,
        `os.arch=${arch()}`,
        `os.version=${release()}`,
        `user.name=${safeUser()}`,
        `user.dir=${process.cwd()}`,
        `process.pid=${process.pid}`,
      ].join('\n') + '\n';
    case 'conf':
      return ctx.conf.map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
    case 'dump':
      return dumpText(await ctx.stats(true), ctx.conns());
  }
}

/**
 * ZooKeeper's dump: the session table, the ephemerals of each session (DataTree.dumpEphemerals'
 * lines), the connections. ZooKeeper groups sessions by expiry time ("Session Sets"); zookooper's
 * expiry is in ticks on the main thread, so each session is listed with its timeout instead.
 * Connections are this worker's (every jute connection).
 */
function dumpText(st: ServerStats, conns: Iterable<Conn>): string {
  const d = st.dump;
  if (d === undefined) return 'SessionTracker dump:\nnot available\n';
  const hex = (id: bigint): string => '0x' + id.toString(16);
  const lines = ['SessionTracker dump:', `Global Sessions(${d.sessionCount}):`];
  for (const s of d.sessions) lines.push(`${hex(s.sessionId)}\t${s.timeoutMs}ms`);
  lines.push('ephemeral nodes dump:', `Sessions with Ephemerals (${d.ephemeralSessionCount}):`);
  for (const e of d.ephemerals) lines.push(`${hex(e.sessionId)}:`, ...e.paths.map((p) => `\t${p}`));
  if (d.truncated) lines.push(`(cut at ${constants.dumpEntriesMax} sessions / paths)`);
  lines.push('Connections dump:');
  for (const c of conns) lines.push(`\tip: /${c.remote} sessionId: ${hex(c.sessionId)}`);
  return lines.join('\n') + '\n';
}

function srvr(stats: ServerStats, figures: WorkerFigures): string {
  return formatSrvr(JSON.parse(statPage(stats, figures)) as StatFields);
}

function consLines(conns: Iterable<Conn>): string[] {
  const out: string[] = [];
  for (const c of conns) {
    out.push(` /${c.remote}[1](queued=${c.queue.length - c.queueHead},recved=${c.received},sent=${c.sent},sid=0x${c.sessionId.toString(16)},to=${c.timeoutMs})`);
  }
  return out;
}

function watchSummary(conns: Iterable<Conn>): { sessions: Map<bigint, Set<string>>; paths: Set<string>; total: number } {
  const sessions = new Map<bigint, Set<string>>();
  const paths = new Set<string>();
  let total = 0;
  for (const c of conns) {
    if (c.watchKeys.size === 0) continue;
    const ps = sessions.get(c.sessionId) ?? new Set<string>();
    for (const key of c.watchKeys) {
      const path = key.slice(key.indexOf('\0') + 1);
      ps.add(path);
      paths.add(path);
      total++;
    }
    sessions.set(c.sessionId, ps);
  }
  return { sessions, paths, total };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
