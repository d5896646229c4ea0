// `zookooper ensemble`: a local ensemble for development in one command. Starts every server as
// its own `zookooper server` process (bin/zookooper.js), polls each one's HTTP /stat on its client
// port for the leader table (as the --user admin when the servers have --admin-users), reports a server that exits (it is not restarted: a crash is worth
// seeing), and on SIGINT/SIGTERM stops every child by PID: SIGTERM, then SIGKILL after a bound.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants } from '../common/constants.js';
import {
  EnsembleUsageError,
  connectString,
  ensembleHost,
  ensemblePortsPerServer,
  ensembleUsage,
  formatTable,
  parseEnsembleArgs,
  planEnsemble,
  serverArgv,
  statNeedsUser,
  statUserRefused,
  type EnsembleArgs,
  type PlannedServer,
  type ServerView,
  zkConnectString,
} from './ensemble-plan.js';
import { fetchStat, PageAuthError, type PageAccess } from './srvr.js';

const binPath = fileURLToPath(new URL('../../../bin/zookooper.js', import.meta.url));

export interface EnsembleIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

interface Member {
  plan: PlannedServer;
  child: ChildProcess | null;
  view: ServerView;
  answered: boolean;
  exited: Promise<void>;
}

/** Free loopback ports, all held at once so none is handed out twice, then released. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const srv = createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, ensembleHost, resolve);
      });
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** <data-dir>/sN with its myid (ZooKeeper's file); an existing myid must agree. */
function prepareDataDir(s: PlannedServer): void {
  mkdirSync(s.dataDir, { recursive: true });
  const myid = join(s.dataDir, 'myid');
  let existing: string | null = null;
  try {
    existing = readFileSync(myid, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (existing !== null && existing !== String(s.id)) {
    throw new EnsembleUsageError(`${myid} says ${existing}, not ${s.id}: that data dir belongs to another server`);
  }
  if (existing === null) writeFileSync(myid, `${s.id}\n`);
}

function startMember(args: EnsembleArgs, plan: PlannedServer[], s: PlannedServer, onChange: () => void): Member {
  const view: ServerView = { id: s.id, clientPort: s.clientPort, zkPort: s.zkPort, pid: null, role: 'starting', epoch: null, zxid: null };
  const log = openSync(s.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [binPath, ...serverArgv(args, plan, s)], { stdio: ['ignore', log, log] });
  } finally {
    closeSync(log); // the child has its own copy
  }
  view.pid = child.pid ?? null;
  const member: Member = { plan: s, child, view, answered: false, exited: Promise.resolve() };
  member.exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      view.role = `failed to start: ${err.message}`;
      member.child = null;
      onChange();
      resolve();
    });
    child.once('exit', (code, signal) => {
      view.role = signal !== null ? `exited (signal ${signal})` : `exited (code ${code})`;
      member.child = null;
      onChange();
      resolve();
    });
  });
  return member;
}

async function poll(m: Member, access: PageAccess): Promise<void> {
  if (m.child === null) return;
  try {
    const st = await fetchStat({ host: ensembleHost, port: m.plan.clientPort }, constants.statusRequestTimeoutMs, access);
    if (m.child === null) return; // exited while the request was out
    m.answered = true;
    m.view.role = st.serverState ?? 'unknown';
    m.view.epoch = st.epoch ?? null;
    m.view.zxid = st.zxid ?? null;
  } catch (err) {
    if (m.child === null) return;
    if (err instanceof PageAuthError) {
      // The server runs and answers, but not to us: say so (and what to do) instead of 'starting'.
      m.answered = true;
      m.view.role = err.userSent ? statUserRefused : statNeedsUser;
      m.view.epoch = null;
      m.view.zxid = null;
      return;
    }
    m.view.role = m.answered ? 'not answering' : 'starting';
  }
}

function listing(args: EnsembleArgs, members: Member[]): string {
  const lines = [`zookooper ensemble: ${args.size} voter(s), ${args.observers} observer(s) on ${ensembleHost}, data in ${args.dataDir}`];
  for (const { plan: s, view } of members) {
    lines.push(
      `  server ${s.id}  ${s.observer ? 'observer' : 'voter   '}  client ${s.clientPort}  jute ${s.zkPort}  peer ${s.peerPort}  election ${s.electionPort}  pid ${view.pid ?? '-'}  log ${s.logFile}`,
    );
  }
  const plan = members.map((m) => m.plan);
  lines.push(`connect string: ${connectString(plan)}`, `ZooKeeper clients (jute): ${zkConnectString(plan)}`, 'Ctrl-C stops every server.');
  return lines.join('\n') + '\n';
}

/** SIGTERM every living child, SIGKILL those still alive after the grace bound; waits for all. */
async function stopAll(members: Member[], io: EnsembleIo): Promise<void> {
  const signal = (m: Member, sig: NodeJS.Signals): void => {
    const pid = m.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // already gone (Ctrl-C hit the group)
    }
  };
  for (const m of members) signal(m, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), constants.ensembleStopGraceMs)));
  const outcome = await Promise.race([Promise.all(members.map((m) => m.exited)).then(() => 'done' as const), graceOver]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    for (const m of members.filter((x) => x.child !== null)) {
      io.stderr.write(`server ${m.plan.id} (pid ${m.view.pid}) still running after ${constants.ensembleStopGraceMs} ms: SIGKILL\n`);
      signal(m, 'SIGKILL');
    }
    await Promise.all(members.map((m) => m.exited));
  }
}

export async function runEnsemble(argv: string[], io: EnsembleIo): Promise<number> {
  let args: EnsembleArgs;
  let plan: PlannedServer[];
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout.write(ensembleUsage + '\n');
      return 0;
    }
    args = parseEnsembleArgs(argv);
    const n = args.size + args.observers;
    plan = planEnsemble(args, args.basePort === 0 ? await freePorts(ensemblePortsPerServer * n) : []);
    for (const s of plan) prepareDataDir(s);
  } catch (err) {
    if (!(err instanceof EnsembleUsageError)) throw err;
    io.stderr.write(`zookooper ensemble: ${err.message}\n`);
    return 2;
  }
  let stopping = false;
  let lastTable = '';
  const printTable = (): void => {
    if (stopping) return;
    const table = formatTable(members.map((m) => m.view));
    if (table === lastTable) return;
    lastTable = table;
    io.stdout.write(`\n[${new Date().toISOString().slice(11, 19)}]\n${table}`);
  };
  const members: Member[] = [];
  for (const s of plan) members.push(startMember(args, plan, s, printTable));
  io.stdout.write(listing(args, members));
  printTable();

  // The servers' HTTP pages are plain http on loopback; an admin user if --user named one.
  const access: PageAccess = { tls: null, user: args.user };
  let polling = false;
  const pollTimer = setInterval(() => {
    if (polling || stopping) return;
    polling = true;
    void Promise.all(members.map((m) => poll(m, access))).then(() => {
      polling = false;
      printTable();
    });
  }, constants.ensemblePollMs);

  return new Promise<number>((resolve) => {
    const onSignal = (sig: string): void => {
      if (stopping) {
        // A second Ctrl-C: do not wait for the grace bound.
        for (const m of members) if (m.child?.pid !== undefined) m.child.kill('SIGKILL');
        return;
      }
      stopping = true;
      clearInterval(pollTimer);
      io.stdout.write(`\n${sig}: stopping ${members.filter((m) => m.child !== null).length} server(s)\n`);
      void stopAll(members, io).then(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        io.stdout.write(`stopped: ${members.map((m) => `server ${m.plan.id} ${m.view.role}`).join(', ')}\n`);
        resolve(0);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
