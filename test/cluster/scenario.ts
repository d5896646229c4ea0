// A fault scenario on a real ensemble under load, start to verdict: start the servers, create the
// keys, start the load children, run the faults (a script written against the context below)
// while they write, stop the load once the faults are healed and it made progress again, read
// every key from every server, and check the whole history. Everything is stopped by PID in a
// finally.
import { tmpdir } from 'node:os';
import { ConfigError, parseServerArgs, serverUsage } from '../../src/common/config.js';
import { existsSync, readFileSync } from 'node:fs';
import { checkHistory, readRecorded, type HistoryReport, type RecordedLine } from '../helpers/history/index.js';
import { Ensemble, type EnsembleOptions, type LoadOptions, type LoadRun } from './harness.js';

export const scenarioDefaults = {
  keys: ['/k0', '/k1', '/k2', '/k3'],
  children: 3,
  progressOps: 5, // acknowledged writes that show the ensemble serves again after a fault
  tailWrites: 30, // acknowledged writes after the last fault before the load is stopped
  progressTimeoutMs: 20_000,
  pollMs: 100,
} as const;

export interface ScenarioContext {
  ensemble: Ensemble;
  load: LoadRun;
  /** Logs a step of the story (kept for the failure report). */
  note(text: string): void;
  /** Waits until the load children have `ops` more acknowledged writes than now. */
  progress(ops?: number, timeoutMs?: number): Promise<void>;
  /** process.hrtime of now, for comparing with recorded ops. */
  mark(): bigint;
}

export interface ScenarioOptions extends Omit<EnsembleOptions, 'size'> {
  size: number;
  /** The load's longest run; it is stopped earlier, once the faults are done and healed and
   * `tailWrites` more writes were acknowledged. */
  durationMs: number;
  tailWrites?: number;
  keys?: string[];
  children?: number;
  load?: Partial<LoadOptions>;
  /** Check reads for linearizability too (true only for a standalone server: an ensemble's
   * followers serve reads from their replica, which ZooKeeper allows to lag). */
  linearizableReads?: boolean;
  faults(ctx: ScenarioContext): Promise<void>;
}

export interface ScenarioResult {
  report: HistoryReport;
  story: string[];
  /** Acknowledged writes invoked after a mark (ctx.mark()). */
  ackedWritesAfter(mark: bigint): number;
}

/** Whether this build runs an ensemble yet (the standalone-only build refuses a server list
 * when it parses its flags), and which timing flags it knows. */
export function ensembleSupport(): { ensemble: boolean; syncLimitFlag: boolean; electionTimeoutFlag: boolean } {
  const help = serverUsage();
  let ensemble = true;
  try {
    parseServerArgs(['--id', '1', '--servers', '1=127.0.0.1:10001:10002,2=127.0.0.1:10003:10004,3=127.0.0.1:10005:10006', '--data-dir', tmpdir()]);
  } catch (err) {
    // Only the standalone-only refusal counts; any other complaint about this probe's flags
    // will show up, with the server's words, when a test starts a real ensemble.
    if (err instanceof ConfigError && /not available yet/.test(err.message)) ensemble = false;
  }
  return { ensemble, syncLimitFlag: help.includes('--sync-limit-ms'), electionTimeoutFlag: help.includes('--election-timeout-ms') };
}

/** Acknowledged writes so far. Files of children that are still writing: one may not exist yet,
 * and its last line may be half written. */
function countAckedWrites(files: readonly string[], after = 0n): number {
  let n = 0;
  for (const f of files) {
    if (!existsSync(f)) continue;
    for (const text of readFileSync(f, 'utf8').split('\n')) {
      if (!text.endsWith('}')) continue;
      const l = JSON.parse(text) as RecordedLine;
      if (l.kind !== 'read' && l.outcome === 'ok' && BigInt(l.startNs) > after) n++;
    }
  }
  return n;
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const keys = o.keys ?? [...scenarioDefaults.keys];
  const story: string[] = [];
  const t0 = Date.now();
  const note = (text: string): void => {
    story.push(`+${((Date.now() - t0) / 1000).toFixed(1)}s ${text}`);
  };
  const ensemble = await Ensemble.start({ ...o, size: o.size });
  let load: LoadRun | null = null;
  try {
    note(`started ${o.size} server(s): pids ${ensemble.servers.map((s) => `s${s.id}=${s.pid}`).join(' ')}`);
    note(`leader s${await ensemble.leader()}`);
    await ensemble.createKeys(keys);
    load = ensemble.startLoad({ children: o.children ?? scenarioDefaults.children, durationMs: o.durationMs, keys, ...o.load });
    const run = load;
    note(`load: ${run.pids.length} children, pids ${run.pids.join(' ')}`);
    const ctx: ScenarioContext = {
      ensemble,
      load: run,
      note,
      mark: () => process.hrtime.bigint(),
      async progress(ops = scenarioDefaults.progressOps, timeoutMs = scenarioDefaults.progressTimeoutMs) {
        const from = countAckedWrites(run.files);
        const deadline = Date.now() + timeoutMs;
        while (countAckedWrites(run.files) < from + ops) {
          if (Date.now() > deadline) {
            throw new Error(`no progress: fewer than ${ops} writes acknowledged within ${timeoutMs} ms\nstory:\n${story.join('\n')}\nroles ${JSON.stringify([...(await ensemble.roles())])}\n${ensemble.recentLines()}`);
          }
          await new Promise((r) => setTimeout(r, scenarioDefaults.pollMs));
        }
        note(`progress: ${countAckedWrites(run.files)} writes acknowledged`);
      },
    };
    await ctx.progress();
    await o.faults(ctx);
    note('faults done');
    await ctx.progress(o.tailWrites ?? scenarioDefaults.tailWrites);
    await run.stop().catch((err: unknown) => {
      throw new Error(`${String(err)}\nstory:\n${story.join('\n')}`);
    });
    note('load stopped');
    await ensemble.settled();
    const { finals, lines } = await ensemble.finalReads(keys);
    note(`final reads from ${new Set(finals.map((f) => f.server)).size} server(s)`);
    const history = run.history(lines);
    const report = checkHistory(history, finals, { includeReads: o.linearizableReads ?? false });
    note(report.text.split('\n')[0]!);
    const raw = readRecorded(run.files); // read now: a temp root goes with stopAll()
    const ackedWritesAfter = (m: bigint): number => raw.filter((l) => l.kind !== 'read' && l.outcome === 'ok' && BigInt(l.startNs) > m).length;
    return { report, story, ackedWritesAfter };
  } finally {
    if (process.env.ZK_CLUSTER_VERBOSE !== undefined) process.stderr.write(story.join('\n') + '\n');
    load?.kill();
    await ensemble.stopAll();
  }
}
