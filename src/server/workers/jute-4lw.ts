// ZooKeeper's four-letter words on the jute port: a connection whose first four bytes are a word
// (instead of a frame length) gets the word's text and is closed, as ZooKeeper's
// NIOServerCnxn.checkFourLetterWord. Only words in the whitelist (4lw.commands.whitelist) run;
// another gets ZooKeeper's refusal line. Connections and watches (stat, cons, wchs, wchc, wchp,
// dump, mntr's counts) are every worker's, gathered through the main thread (gather.ts), in
// ZooKeeper 3.8's text formats; a worker that did not answer in time, or a list cut at
// constants.dumpEntriesMax, is said in a line of its own in parentheses before the final blank line.
import { hostname, platform, release, arch, userInfo } from 'node:os';
import { formatSrvr, type StatFields } from '../../cli/srvr.js';
import { mntrPage, statPage, type WorkerFigures } from '../http/pages.js';
import { constants } from '../../common/constants.js';
import type { ServerStats } from './messages.js';
import { watchesByPath, watchesBySession, type ConnectionInfo, type Gathered } from './reports.js';

export const fourLetterWords = ['ruok', 'srvr', 'stat', 'mntr', 'cons', 'wchs', 'wchc', 'wchp', 'envi', 'conf', 'isro', 'dump'] as const;
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
  /** Every worker's connections and watches, each list at most `entriesMax` long (0: counts only). */
  gather(entriesMax: number): Promise<Gathered>;
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
      const [stats, g] = await Promise.all([ctx.stats(), ctx.gather(constants.dumpEntriesMax)]);
      const [first, ...rest] = srvr(stats, ctx.figures()).split('\n');
      return [first, 'Clients:', ...g.connections.map(consLine), ...notes(g), '', ...rest].join('\n');
    }
    case 'mntr': {
      const [stats, g] = await Promise.all([ctx.stats(), ctx.gather(0)]);
      const m = JSON.parse(mntrPage(stats, ctx.figures(), g)) as Record<string, unknown>;
      return Object.entries(m).map(([k, v]) => `${k}\t${String(v)}`).join('\n') + '\n';
    }
    case 'cons': {
      const g = await ctx.gather(constants.dumpEntriesMax);
      return [...g.connections.map(consLine), ...notes(g)].join('\n') + '\n\n';
    }
    case 'wchs':
      return wchs(await ctx.gather(constants.dumpEntriesMax));
    case 'wchc': {
      // ZooKeeper's WatchManager.dumpWatches(byPath = false): each session, then its paths.
      const g = await ctx.gather(constants.dumpEntriesMax);
      let out = '';
      for (const [sid, ws] of watchesBySession(g.watches)) out += `0x${sid.toString(16)}\n${ws.map((w) => `\t${w.path}\n`).join('')}`;
      return out + notesText(g) + '\n';
    }
    case 'wchp': {
      // dumpWatches(byPath = true): each path, then the sessions watching it.
      const g = await ctx.gather(constants.dumpEntriesMax);
      let out = '';
      for (const [path, ws] of watchesByPath(g.watches)) out += `${path}\n${ws.map((w) => `\t0x${w.sessionId.toString(16)}\n`).join('')}`;
      return out + notesText(g) + '\n';
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
    case 'dump': {
      const [stats, g] = await Promise.all([ctx.stats(true), ctx.gather(constants.dumpEntriesMax)]);
      return dumpText(stats, g);
    }
  }
}

/**
 * ZooKeeper's dump: the session table, the ephemerals of each session (DataTree.dumpEphemerals'
 * lines), the connections. ZooKeeper groups sessions by expiry time ("Session Sets"); zookooper's
 * expiry is in ticks on the main thread, so each session is listed with its timeout instead.
 * Connections are every worker's (jute and WebSocket).
 */
function dumpText(st: ServerStats, g: Gathered): string {
  const d = st.dump;
  if (d === undefined) return 'SessionTracker dump:\nnot available\n';
  const hex = (id: bigint): string => '0x' + id.toString(16);
  const lines = ['SessionTracker dump:', `Global Sessions(${d.sessionCount}):`];
  for (const s of d.sessions) lines.push(`${hex(s.sessionId)}\t${s.timeoutMs}ms`);
  lines.push('ephemeral nodes dump:', `Sessions with Ephemerals (${d.ephemeralSessionCount}):`);
  for (const e of d.ephemerals) lines.push(`${hex(e.sessionId)}:`, ...e.paths.map((p) => `\t${p}`));
  if (d.truncated) lines.push(`(cut at ${constants.dumpEntriesMax} sessions / paths)`);
  lines.push('Connections dump:');
  for (const c of g.connections) lines.push(`\tip: /${c.remote} sessionId: ${hex(c.sessionId)}`);
  lines.push(...notes(g));
  return lines.join('\n') + '\n';
}

function srvr(stats: ServerStats, figures: WorkerFigures): string {
  return formatSrvr(JSON.parse(statPage(stats, figures)) as StatFields);
}

/** One `cons` line, as ZooKeeper's ServerCnxn.dumpConnectionInfo (the fields zookooper keeps). */
function consLine(c: ConnectionInfo): string {
  return ` /${c.remote}[1](queued=${c.queued},recved=${c.received},sent=${c.sent},sid=0x${c.sessionId.toString(16)},to=${c.timeoutMs})`;
}

/** wchs: ZooKeeper's WatchManager.toString: sessions watching, distinct paths, (session, path) pairs. */
function wchs(g: Gathered): string {
  const sessions = new Set(g.watches.map((w) => w.sessionId));
  const paths = new Set(g.watches.map((w) => w.path));
  return `${sessions.size} connections watching ${paths.size} paths\nTotal watches:${g.watches.length}\n${notesText(g)}`;
}

/** What is missing from a gathered answer: workers that did not answer, lists cut at the bound. */
function notes(g: Gathered): string[] {
  const out = g.missing.map((id) => `(worker ${id} did not answer within ${constants.workerReportTimeoutMs} ms: its connections and watches are not listed)`);
  if (g.truncated) out.push(`(cut at ${constants.dumpEntriesMax} entries)`);
  return out;
}

function notesText(g: Gathered): string {
  return notes(g).map((l) => l + '\n').join('');
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
