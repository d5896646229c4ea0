// The pure half of `zookooper ensemble`: its flags, the plan of servers (ids, ports, data dirs,
// the `zookooper server` argv of each) and the text of the leader table. No processes here.
import { join, resolve } from 'node:path';
import { constants } from '../common/constants.js';

export class EnsembleUsageError extends Error {
  override name = 'EnsembleUsageError';
}

export const ensembleUsage = `usage: zookooper ensemble [--size 3] [--observers 0] [--base-port 2181] [--data-dir ./data]
                          [--workers 1] [--tick-ms N] [--user NAME:PASSWORD] [-- more zookooper server flags]
  Starts --size voters and --observers observers as separate \`zookooper server\` processes on
  127.0.0.1, ids 1..N, client ports base..base+N-1, peer ports client+${constants.ensemblePeerPortOffset}, election ports
  client+${constants.ensembleElectionPortOffset} (2181 -> 2888/3888, as ZooKeeper's usual ports), ZooKeeper-protocol (jute) ports
  client+${constants.zkPortOffset} (2181 -> 3181, for zkCli.sh, Curator, kazoo), data in <data-dir>/s1..sN
  (each with its myid, its log in zookooper.log). --base-port 0 picks every port free.
  Prints who leads, refreshed when it changes, from each server's HTTP /stat; servers given
  --admin-users (after --) answer /stat only to one of those users: name it with --user.
  Ctrl-C stops every server.`;

export interface EnsembleArgs {
  size: number;
  observers: number;
  basePort: number; // 0 = every port picked free
  dataDir: string;
  workers: number;
  tickMs: number | null;
  /** `name:password` of an --admin-users user, sent (HTTP Basic) with every /stat poll; null: none. */
  user: string | null;
  /** Passed to every server as they are (after `--`). */
  serverArgs: string[];
}

function intArg(name: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new EnsembleUsageError(`${name} needs an integer, got ${JSON.stringify(value ?? '')}`);
  const n = Number(value);
  if (n < min || n > max) throw new EnsembleUsageError(`${name}: ${n} is outside [${min}, ${max}]`);
  return n;
}

export function parseEnsembleArgs(argv: string[]): EnsembleArgs {
  const args: EnsembleArgs = { size: 3, observers: 0, basePort: constants.clientPort, dataDir: resolve('data'), workers: 1, tickMs: null, user: null, serverArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      args.serverArgs = argv.slice(i + 1);
      break;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    const max = constants.ensembleServersMax;
    switch (name) {
      case '--size': args.size = intArg(name, value, 1, max); break;
      case '--observers': args.observers = intArg(name, value, 0, max); break;
      case '--base-port': args.basePort = intArg(name, value, 0, 65535); break;
      case '--data-dir':
        if (value === undefined) throw new EnsembleUsageError('--data-dir needs a directory');
        args.dataDir = resolve(value);
        break;
      case '--workers': args.workers = intArg(name, value, 1, 64); break;
      case '--tick-ms': args.tickMs = intArg(name, value, 1, 3_600_000); break;
      case '--user':
        // As `zookooper cli --user`: the name, a colon, the password (which may hold colons).
        if (value === undefined || !/^[^:]+:/.test(value)) throw new EnsembleUsageError('--user needs NAME:PASSWORD (an --admin-users user)');
        args.user = value;
        break;
      default:
        throw new EnsembleUsageError(`unknown flag ${name}\n${ensembleUsage}`);
    }
  }
  if (args.size + args.observers > constants.ensembleServersMax) {
    throw new EnsembleUsageError(`--size + --observers: at most ${constants.ensembleServersMax} servers`);
  }
  const top = args.basePort + args.size + args.observers - 1 + constants.ensembleElectionPortOffset;
  if (args.basePort !== 0 && top > 65535) throw new EnsembleUsageError(`--base-port ${args.basePort}: the election ports would pass 65535`);
  return args;
}

export interface PlannedServer {
  id: number;
  observer: boolean;
  clientPort: number;
  /** The jute (ZooKeeper wire protocol) port, passed as --zk-port. */
  zkPort: number;
  peerPort: number;
  electionPort: number;
  dataDir: string;
  logFile: string;
}

export const ensembleHost = '127.0.0.1';

/** Client, peer, election and jute port. */
export const ensemblePortsPerServer = 4;

/**
 * Ids 1..N, voters first. `freePorts` supplies four ports per server when --base-port is 0
 * (client, peer, election, jute, in that order).
 */
export function planEnsemble(args: EnsembleArgs, freePorts: number[] = []): PlannedServer[] {
  const n = args.size + args.observers;
  const out: PlannedServer[] = [];
  for (let i = 0; i < n; i++) {
    const id = i + 1;
    const dataDir = join(args.dataDir, `s${id}`);
    const ports =
      args.basePort === 0
        ? [freePorts[4 * i], freePorts[4 * i + 1], freePorts[4 * i + 2], freePorts[4 * i + 3]]
        : [
            args.basePort + i,
            args.basePort + i + constants.ensemblePeerPortOffset,
            args.basePort + i + constants.ensembleElectionPortOffset,
            args.basePort + i + constants.zkPortOffset,
          ];
    if (ports.some((p) => p === undefined)) throw new Error(`planEnsemble: ${ensemblePortsPerServer * n} free ports needed, got ${freePorts.length}`);
    const [clientPort, peerPort, electionPort, zkPort] = ports as [number, number, number, number];
    out.push({ id, observer: i >= args.size, clientPort, zkPort, peerPort, electionPort, dataDir, logFile: join(dataDir, 'zookooper.log') });
  }
  return out;
}

/** The --servers value every server gets: ZooKeeper's entries with :observer and ;clientPort. */
export function serversSpec(plan: PlannedServer[]): string {
  return plan.map((s) => `${s.id}=${ensembleHost}:${s.peerPort}:${s.electionPort}${s.observer ? ':observer' : ''};${s.clientPort}`).join(',');
}

export function serverArgv(args: EnsembleArgs, plan: PlannedServer[], s: PlannedServer): string[] {
  return [
    'server',
    '--id', String(s.id),
    '--servers', serversSpec(plan),
    '--host', ensembleHost,
    '--port', String(s.clientPort),
    '--zk-port', String(s.zkPort),
    '--data-dir', s.dataDir,
    '--workers', String(args.workers),
    ...(args.tickMs !== null ? ['--tick-ms', String(args.tickMs)] : []),
    ...args.serverArgs,
  ];
}

export function connectString(plan: PlannedServer[]): string {
  return plan.map((s) => `${ensembleHost}:${s.clientPort}`).join(',');
}

/** The connect string for ZooKeeper's own clients (zkCli.sh -server, Curator, kazoo). */
export function zkConnectString(plan: PlannedServer[]): string {
  return plan.map((s) => `${ensembleHost}:${s.zkPort}`).join(',');
}

/** The role shown for a server whose /stat answered 401, and the line under the table saying why. */
export const statNeedsUser = 'needs --user (/stat 401)';
export const statUserRefused = '--user refused (/stat 401)';
const statAuthNotes: Record<string, string> = {
  [statNeedsUser]: 'these servers have --admin-users: /stat answers only an admin user; start zookooper ensemble with --user NAME:PASSWORD (one of them)',
  [statUserRefused]: 'the --user given is not one of these servers\' --admin-users (or its password is wrong): /stat refuses it',
};

/** What the table knows of one server: its last /stat, or why it has none. */
export interface ServerView {
  id: number;
  clientPort: number;
  zkPort: number;
  pid: number | null;
  /** 'starting' before the first answer; a role from /stat; 'not answering'; 'exited (...)';
   * statNeedsUser / statUserRefused when /stat wants an admin user. */
  role: string;
  epoch: number | null;
  zxid: string | null;
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
}

/** The leader table. Stable text for a stable ensemble, so it is reprinted only on a change. */
export function formatTable(views: ServerView[]): string {
  const leaders = views.filter((v) => v.role === 'leader').map((v) => `server ${v.id} (client port ${v.clientPort})`);
  const head = ['server', 'client port', 'jute port', 'role', 'epoch', 'zxid', 'pid'];
  const rows = views.map((v) => [String(v.id), String(v.clientPort), String(v.zkPort), v.role, v.epoch === null ? '-' : String(v.epoch), v.zxid ?? '-', v.pid === null ? '-' : String(v.pid)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const leaderLine = leaders.length === 0 ? 'leader: none' : `leader: ${leaders.join(', ')}`;
  const notes = [...new Set(views.map((v) => statAuthNotes[v.role]).filter((n) => n !== undefined))];
  return [leaderLine, pad(head, widths), ...rows.map((r) => pad(r, widths)), ...notes].join('\n') + '\n';
}
