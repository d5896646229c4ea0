// `npm run bench` (= npm run build && node dist/bench/run.js): the benchmark suite of zookooper.
//
//   npm run bench                      micro + load + watch fan-out + memory/recovery (a few minutes)
//   npm run bench -- --quick           the same, small (about 1-2 minutes)
//   npm run bench -- --vs-zookeeper    also Apache ZooKeeper 3.8 standalone (fsync on), same shapes,
//                                      same invocation, ratios printed
//   npm run bench -- --only load,watch one or more of: micro, load, watch, memory, recipes, ensemble
//   npm run bench -- --only ensemble --vs-zookeeper   issue 6: 3-server ensembles (bench/ensemble/)
//   more: --help
//
// Prints tables and writes bench/results/<date>-<name>.json (machine, command, date, every figure).
// Servers run on loopback, on a free port, with a temp data dir, and are stopped by PID at the end.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ratios, targets, type TargetCheck } from './lib/compare.js';
import * as F from './lib/format.js';
import { machineFacts, javaVersion, type MachineFacts } from './lib/machine.js';
import { stopAllRunning } from './lib/process.js';
import { compileDriver, startZooKeeper, zookeeperMissing, zookeeperVersion } from './lib/zookeeper.js';
import { repoRoot, startZookooper, sutRoot, zookooperMissing } from './lib/zookooper.js';
import type { LoadFigures, MemoryFigures, WatchFigures } from './load/figures.js';
import { memoryZooKeeper, memoryZookooper } from './load/memory.js';
import { shapes as allShapes, type Shape } from './load/protocol.js';
import { watchFanoutZooKeeper, watchFanoutZookooper } from './load/watch.js';
import { runShapeZooKeeper } from './load/zookeeper-load.js';
import { runZookooperLoad, type LoadOptions } from './load/zookooper-load.js';
import { runMicro, type MicroRow } from './micro/index.js';
import { ensembleDefaults, ensembleFlag, ensembleParts, runEnsembleBench, type EnsembleOptions, type EnsembleResults } from './ensemble/index.js';
import { ensembleTables, updateEnsembleReadme } from './ensemble/report.js';
import { juteDefaults, juteHeader, juteRatioHeader, juteRatioRows, juteRows, juteTopologies, runJuteBench, type JuteOptions, type JuteResults, type JuteTopology } from './jute/index.js';
import { readmeChartsMarkdown, updateReadmeCharts, writeReport } from './report/write.js';

const sections = ['micro', 'load', 'watch', 'memory', 'recipes', 'ensemble', 'jute'] as const;
type Section = (typeof sections)[number];

interface Options {
  quick: boolean;
  vsZookeeper: boolean;
  skipZookooper: boolean;
  only: Section[];
  load: LoadOptions;
  workers: number[];
  watchers: number[];
  watchRounds: number;
  watchWorkers: number;
  znodes: number;
  memoryWorkers: number;
  microTimeMs: number;
  serverArgs: string[];
  watchServerArgs: string[];
  ensemble: EnsembleOptions;
  jute: JuteOptions;
  report: boolean;
  updateReadme: boolean;
  save: boolean;
  keepTmp: boolean;
  name: string | undefined;
}

const help = `usage: npm run bench -- [flags]
  --quick               small run (~1-2 min): 2 s per shape, 1,000 watchers, 100,000 znodes
  --vs-zookeeper        also run Apache ZooKeeper 3.8 (apt-get install zookeeper) and print ratios
  --skip-zookooper      run only the ZooKeeper baseline (with --vs-zookeeper)
  --only A[,B]          sections: ${sections.join(', ')}
  --shapes A[,B]        load shapes: ${allShapes.join(', ')}
  --workers 1,2         zookooper --workers values for the load section
  --sessions N          sessions (default 32)       --outstanding K   requests in flight per session (32)
  --duration-ms MS      measured window per shape   --warmup-ms MS    unmeasured lead-in per shape
  --procs N             load generator processes (2)
  --watchers 1000,10000 watch fan-out sizes         --watch-rounds R
  --znodes N            memory/recovery size (default 1,000,000; --quick 100,000)
  --server-arg ARG      extra argument for every zookooper server (repeatable)
  ensemble (issue 6; ZooKeeper's 3-server ensemble too with --vs-zookeeper):
  --ensemble-parts A[,B] ${ensembleParts.join(', ')} (default all)
  --ensemble-sessions N (64)  --ensemble-outstanding K (16)  --ensemble-procs N load processes / JVMs (3)
  --ensemble-workers N  zookooper --workers of each ensemble server (1)
  --failover-rounds R (5; --quick 2)   --catchup-txns T (100,000; --quick 10,000)
  --snap-znodes N (1,000,000; --quick 100,000)   --ensemble-watchers W (10,000; --quick 1,000)
  --server-node-arg ARG  a Node flag for every ensemble server process (repeatable), e.g. --cpu-prof
  jute (issue 7; ZkDriver.java against zookooper's --zk-port and, with --vs-zookeeper, ZooKeeper 3.8):
  --jute-parts A[,B]    ${juteTopologies.join(', ')} (default both); --sessions/--outstanding/--shapes apply
  --jute-procs N        driver JVMs on the 3-server ensemble (3)
  --no-report           do not write the HTML report and SVG charts beside the JSON
  --update-readme       rewrite the summary in bench/README.md from this run's figures
  --no-save             do not write bench/results/*.json
  --keep-tmp            keep the temp dir (server logs, data dirs)
  --name NAME           result file name suffix`;

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const o: Options = {
    quick,
    vsZookeeper: false,
    skipZookooper: false,
    only: [...sections],
    load: {
      shapes: [...allShapes],
      sessions: 32,
      outstanding: 32,
      valueBytes: 1024,
      nodes: 64,
      warmupMs: quick ? 1_000 : 2_000,
      durationMs: quick ? 2_000 : 5_000,
      procs: 2,
    },
    workers: [1, 2],
    watchers: quick ? [1_000] : [1_000, 10_000],
    watchRounds: quick ? 3 : 5,
    watchWorkers: 2,
    znodes: quick ? 100_000 : 1_000_000,
    memoryWorkers: 1,
    microTimeMs: quick ? 150 : 500,
    // As the ZooKeeper side's zoo.cfg: no per-address connection cap (10,000 watchers share 127.0.0.1).
    serverArgs: ['--max-client-cnxns', '0'],
    watchServerArgs: [],
    ensemble: ensembleDefaults(quick),
    jute: juteDefaults(quick),
    report: true,
    updateReadme: false,
    save: true,
    keepTmp: false,
    name: undefined,
  };
  const list = (v: string | undefined): string[] => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v?.replace(/_/g, ''));
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} wants a positive number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string | undefined => argv[++i];
    switch (a) {
      case '--quick':
        break;
      case '--vs-zookeeper':
        o.vsZookeeper = true;
        break;
      case '--skip-zookooper':
        o.skipZookooper = true;
        break;
      case '--only': {
        const names = list(v());
        for (const n of names) if (!(sections as readonly string[]).includes(n)) throw new Error(`--only: unknown section ${n} (${sections.join(', ')})`);
        o.only = names as Section[];
        break;
      }
      case '--shapes': {
        const names = list(v());
        for (const n of names) if (!(allShapes as readonly string[]).includes(n)) throw new Error(`--shapes: unknown shape ${n}`);
        o.load.shapes = names as Shape[];
        break;
      }
      case '--workers':
        o.workers = list(v()).map((x) => num('--workers', x));
        break;
      case '--sessions':
        o.load.sessions = num(a, v());
        break;
      case '--outstanding':
        o.load.outstanding = num(a, v());
        break;
      case '--duration-ms':
        o.load.durationMs = num(a, v());
        break;
      case '--warmup-ms':
        o.load.warmupMs = num(a, v());
        break;
      case '--procs':
        o.load.procs = num(a, v());
        break;
      case '--watchers':
        o.watchers = list(v()).map((x) => num('--watchers', x));
        break;
      case '--watch-rounds':
        o.watchRounds = num(a, v());
        break;
      case '--znodes':
        o.znodes = num(a, v());
        break;
      case '--server-arg':
        o.serverArgs.push(v() ?? '');
        break;
      case '--jute-parts': {
        const names = list(v());
        for (const n of names) if (!(juteTopologies as readonly string[]).includes(n)) throw new Error(`--jute-parts: unknown part ${n} (${juteTopologies.join(', ')})`);
        o.jute.topologies = names as JuteTopology[];
        break;
      }
      case '--jute-procs':
        o.jute.load.procs = num(a, v());
        break;
      case '--no-report':
        o.report = false;
        break;
      case '--update-readme':
        o.updateReadme = true;
        break;
      case '--no-save':
        o.save = false;
        break;
      case '--keep-tmp':
        o.keepTmp = true;
        break;
      case '--name':
        o.name = v();
        break;
      case '--help':
      case '-h':
        console.log(help);
        process.exit(0);
        break;
      default:
        if (a.startsWith('--') && ensembleFlag(o.ensemble, a, () => v(), num)) break;
        throw new Error(`unknown flag ${a}\n${help}`);
    }
  }
  o.watchWorkers = Math.max(...o.workers);
  o.ensemble.serverArgs = [...o.serverArgs];
  o.jute.serverArgs = [...o.serverArgs];
  o.jute.load = { ...o.jute.load, sessions: o.load.sessions, outstanding: o.load.outstanding, durationMs: o.load.durationMs, warmupMs: o.load.warmupMs };
  if (argv.includes('--shapes')) o.jute.load.shapes = o.load.shapes.filter((x) => x !== 'eph');
  o.ensemble.load.durationMs = o.load.durationMs;
  o.ensemble.load.warmupMs = o.load.warmupMs;
  o.ensemble.standalone.durationMs = o.load.durationMs;
  o.ensemble.standalone.warmupMs = o.load.warmupMs;
  return o;
}

interface Results {
  name: string;
  date: string;
  command: string;
  options: Omit<Options, 'only'> & { only: Section[] };
  machine: MachineFacts;
  versions: { zookooper: string; zookooperRoot?: string; zookooperCommit?: string; zookeeper?: string; java?: string };
  micro: MicroRow[];
  load: LoadFigures[];
  watch: WatchFigures[];
  memory: MemoryFigures[];
  /** Issue 3's recipe figures: discovery propagation, provider picks, soft load balancing, locks. */
  recipes: Record<string, number>;
  /** Issue 6: the 3-server ensembles (bench/ensemble/). */
  ensemble?: EnsembleResults;
  /** Issue 7: one Java driver against zookooper's jute port and ZooKeeper (bench/jute/). */
  jute?: JuteResults;
  ratios: ReturnType<typeof ratios>;
  targets: TargetCheck[];
  skipped: { section: string; system: string; why: string }[];
  errors: { section: string; system: string; message: string }[];
  durationSec: number;
}

/** The commit (and whether the tree is dirty) of the zookooper checkout under test. */
function gitCommit(root: string): { zookooperCommit?: string } {
  try {
    const head = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return { zookooperCommit: `${head}${dirty ? ' (modified)' : ''}` };
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseArgs(argv);
  const t0 = performance.now();
  const date = new Date();
  const log = (s: string): void => console.log(s);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'zookooper-bench-'));
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const runName =
    o.name ??
    [o.quick ? 'quick' : 'full', o.vsZookeeper ? 'vs-zookeeper' : '', o.skipZookooper ? 'baseline-only' : '', o.only.length < sections.length ? `only-${o.only.join('-')}` : '']
      .filter(Boolean)
      .join('-');
  const command =
    process.env.npm_lifecycle_event === 'bench' ? `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}` : `node dist/bench/run.js ${argv.join(' ')}`.trim();
  const r: Results = {
    name: runName,
    date: date.toISOString(),
    command,
    options: o,
    machine: machineFacts(),
    versions: { zookooper: pkg.version, zookooperRoot: sutRoot, ...gitCommit(sutRoot) },
    micro: [],
    load: [],
    watch: [],
    memory: [],
    recipes: {},
    ratios: [],
    targets: [],
    skipped: [],
    errors: [],
    durationSec: 0,
  };
  log(`zookooper bench "${runName}" — ${r.machine.cpuModel}, ${r.machine.cores} cores, ${(r.machine.memBytes / 2 ** 30).toFixed(0)} GiB, node ${r.machine.nodeVersion}, ${r.machine.kernel}`);
  log(`temp dir ${tmp}`);
  log(`zookooper under test: ${sutRoot} ${r.versions.zookooperCommit ?? ''}`);

  const ourMissing = o.skipZookooper ? 'skipped by --skip-zookooper' : zookooperMissing();
  let zkMissing: string | null = o.vsZookeeper ? zookeeperMissing() : 'not requested (--vs-zookeeper)';
  let zkCp: string | null = null;
  if (zkMissing === null) {
    try {
      zkCp = compileDriver(path.join(tmp, 'zk-driver-classes'));
      const v = zookeeperVersion();
      const j = javaVersion();
      if (v !== undefined) r.versions.zookeeper = v;
      if (j !== undefined) r.versions.java = j;
      log(`ZooKeeper ${v ?? '?'} baseline; driver compiled (${j ?? 'java ?'})`);
    } catch (err) {
      zkMissing = `could not compile bench/zk-driver/ZkDriver.java: ${(err as Error).message}`;
    }
  }
  const skip = (section: string, system: string, why: string): void => {
    r.skipped.push({ section, system, why });
    log(`  ${section} / ${system}: skipped: ${why}`);
  };
  const attempt = async (section: string, system: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      r.errors.push({ section, system, message });
      log(`  ${section} / ${system}: FAILED: ${message}`);
    }
  };
  const has = (s: Section): boolean => o.only.includes(s);

  // ---------------------------------------------------------------- micro
  if (has('micro')) {
    log('\n== micro (tinybench) ==');
    if (o.skipZookooper) skip('micro', 'zookooper', 'skipped by --skip-zookooper');
    else {
      r.micro = await runMicro({ timeMs: o.microTimeMs }, log);
      log(F.table(F.microHeader, F.microRows(r.micro)));
    }
  }

  // ---------------------------------------------------------------- load
  if (has('load')) {
    const l = o.load;
    log(`\n== load: ${l.sessions} sessions x ${l.outstanding} outstanding, ${l.valueBytes} B values, ${l.durationMs} ms per shape after ${l.warmupMs} ms warm-up ==`);
    const show = (f: LoadFigures): void => log(`  ${F.loadLine(f)}`);
    if (ourMissing !== null) skip('load', 'zookooper', ourMissing);
    else {
      for (const workers of o.workers) {
        // Figures are kept as they come, so a failure later in the run loses nothing measured.
        await attempt('load', `zookooper w=${workers}`, async () =>
          runZookooperLoad(workers, l, tmp, o.serverArgs, (f) => {
            r.load.push(f);
            show(f);
          }),
        );
      }
    }
    if (zkMissing !== null || zkCp === null) skip('load', 'zookeeper', zkMissing ?? 'no driver');
    else {
      const cp = zkCp;
      await attempt('load', 'zookeeper', async () => {
        const dir = path.join(tmp, 'zookeeper-load');
        const zk = await startZooKeeper({ dir, dataDir: path.join(dir, 'data'), logFile: path.join(tmp, 'zookeeper-load.log') });
        try {
          for (const shape of l.shapes) {
            const f = await runShapeZooKeeper(zk, cp, shape, l, tmp);
            r.load.push(f);
            show(f);
          }
        } finally {
          await zk.managed.stop();
        }
      });
    }
  }

  // ---------------------------------------------------------------- watch fan-out
  if (has('watch')) {
    log(`\n== watch fan-out: ${o.watchers.join(', ')} watchers, ${o.watchRounds} rounds ==`);
    if (ourMissing !== null) skip('watch', 'zookooper', ourMissing);
    else
      await attempt('watch', 'zookooper', async () => {
        const server = await startZookooper({
          dataDir: path.join(tmp, 'zookooper-watch'),
          workers: o.watchWorkers,
          logFile: path.join(tmp, 'zookooper-watch.log'),
          extraArgs: [...o.serverArgs, ...o.watchServerArgs],
        });
        try {
          for (const w of o.watchers) {
            const f = await watchFanoutZookooper(server, w, o.watchRounds, o.load.procs);
            r.watch.push(f);
            log(F.table(F.watchHeader, F.watchRows([f])));
          }
        } finally {
          await server.managed.stop();
        }
      });
    if (zkMissing !== null || zkCp === null) skip('watch', 'zookeeper', zkMissing ?? 'no driver');
    else {
      const cp = zkCp;
      await attempt('watch', 'zookeeper', async () => {
        const dir = path.join(tmp, 'zookeeper-watch');
        const zk = await startZooKeeper({ dir, dataDir: path.join(dir, 'data'), logFile: path.join(tmp, 'zookeeper-watch.log') });
        try {
          for (const w of o.watchers) {
            const f = await watchFanoutZooKeeper(zk, cp, w, o.watchRounds, tmp);
            r.watch.push(f);
            log(F.table(F.watchHeader, F.watchRows([f])));
          }
        } finally {
          await zk.managed.stop();
        }
      });
    }
  }

  // ---------------------------------------------------------------- recipes (issue 3)
  if (has('recipes')) {
    log('\n== recipes: service discovery, soft load balancing, locks ==');
    if (ourMissing !== null) skip('recipes', 'zookooper', ourMissing);
    else
      await attempt('recipes', 'zookooper', async () => {
        const server = await startZookooper({
          dataDir: path.join(tmp, 'zookooper-recipes'),
          workers: 2,
          logFile: path.join(tmp, 'zookooper-recipes.log'),
          extraArgs: o.serverArgs,
        });
        try {
          const connectString = `127.0.0.1:${server.port}`;
          const { benchDiscovery } = await import('./recipes/discovery.js');
          const { benchLocks } = await import('./recipes/locks.js');
          Object.assign(r.recipes, await benchDiscovery({ connectString, quick: o.quick }));
          Object.assign(r.recipes, await benchLocks({ connectString, quick: o.quick }));
          for (const [k, v] of Object.entries(r.recipes)) log(`  ${k.padEnd(48)} ${Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2)}`);
        } finally {
          await server.managed.stop();
        }
      });
  }

  // ---------------------------------------------------------------- memory and recovery
  if (has('memory')) {
    log(`\n== memory and recovery: ${o.znodes.toLocaleString('en-US')} znodes of 100 bytes ==`);
    const mo = { znodes: o.znodes, valueBytes: 100, procs: o.load.procs, sessionsPerProc: 4, outstanding: 64, workers: o.memoryWorkers };
    if (ourMissing !== null) skip('memory', 'zookooper', ourMissing);
    else
      await attempt('memory', 'zookooper', async () => {
        const f = await memoryZookooper(mo, tmp, o.serverArgs, log);
        r.memory.push(f);
        log(F.table(F.memoryHeader, F.memoryRows([f])));
        if (f.restartProgressLines.length) log(`  start-up output:\n    ${f.restartProgressLines.slice(0, 12).join('\n    ')}`);
      });
    if (zkMissing !== null || zkCp === null) skip('memory', 'zookeeper', zkMissing ?? 'no driver');
    else {
      const cp = zkCp;
      await attempt('memory', 'zookeeper', async () => {
        const f = await memoryZooKeeper(mo, cp, tmp, log);
        r.memory.push(f);
        log(F.table(F.memoryHeader, F.memoryRows([f])));
      });
    }
  }

  // ---------------------------------------------------------------- ensemble (issue 6)
  if (has('ensemble')) {
    log(`\n== ensemble: ${o.ensemble.size} servers on loopback (${o.ensemble.parts.join(', ')}) ==`);
    if (ourMissing !== null) skip('ensemble', 'zookooper', ourMissing);
    else {
      r.ensemble = await runEnsembleBench(o.ensemble, tmp, { classpath: zkMissing === null ? zkCp : null, why: zkMissing }, log);
      for (const e of r.ensemble.errors) r.errors.push({ section: `ensemble/${e.part}`, system: e.system, message: e.message });
    }
  }

  // ---------------------------------------------------------------- jute (issue 7)
  if (has('jute')) {
    const j = o.jute;
    log(`\n== jute: bench/zk-driver/ZkDriver.java against zookooper --zk-port${zkCp !== null ? ' and ZooKeeper 3.8' : ''}: ${j.load.sessions} x ${j.load.outstanding}, ${j.topologies.join(' + ')} ==`);
    if (ourMissing !== null) skip('jute', 'zookooper', ourMissing);
    else {
      // The driver needs javac and zookeeper.jar even for the zookooper side.
      let cp = zkCp;
      let why = zkMissing;
      if (cp === null && zookeeperMissing() === null) {
        cp = compileDriver(path.join(tmp, 'zk-driver-classes'));
        why = null;
      }
      if (cp === null) skip('jute', 'zookooper', `the Java driver cannot run: ${why ?? '?'}`);
      else {
        if (zkMissing !== null) skip('jute', 'zookeeper', zkMissing);
        r.jute = await runJuteBench(j, tmp, cp, log, zkMissing !== null);
        for (const e of r.jute.errors) r.errors.push({ section: `jute/${e.part}`, system: e.system, message: e.message });
      }
    }
  }

  // ---------------------------------------------------------------- summary
  r.ratios = ratios(r.load);
  r.targets = targets(r.load, r.watch, r.memory);
  r.durationSec = (performance.now() - t0) / 1000;
  log('\n== summary ==');
  if (r.load.length) log(F.table(F.loadHeader, F.loadRows(r.load)));
  if (r.ratios.length) {
    log('\nzookooper / ZooKeeper (same invocation):');
    log(F.table(['shape', 'workers', 'ops/s ratio', 'server µs/op ratio', 'p99 ratio'], r.ratios.map((x) => [x.shape, x.workers, F.fmt.n2(x.opsRatio), F.fmt.n2(x.cpuPerOpRatio), F.fmt.n2(x.p99Ratio)])));
  }
  if (r.watch.length) log(`\n${F.table(F.watchHeader, F.watchRows(r.watch))}`);
  if (r.memory.length) log(`\n${F.table(F.memoryHeader, F.memoryRows(r.memory))}`);
  if (r.load.length || r.watch.length || r.memory.length) {
    log('\ntargets (issue 2; figures to report, not asserts):');
    log(F.table(['target', 'figure', 'status'], r.targets.map((t) => [t.target, t.figure, t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED'])));
  }
  if (r.ensemble) for (const part of ensembleTables(r.ensemble, false)) log(`\n${part}`);
  if (r.jute?.load.length) log(`\njute (one Java driver for both):\n${F.table(juteHeader, juteRows(r.jute.load))}`);
  if (r.jute?.ratios.length) log(`\nzookooper / ZooKeeper over jute (same driver, same invocation):\n${F.table(juteRatioHeader, juteRatioRows(r.jute.ratios))}`);
  for (const e of r.errors) log(`error: ${e.section} / ${e.system}: ${e.message.split('\n')[0]}`);

  if (o.save) {
    const dir = path.join(repoRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const stamp = date.toISOString().slice(0, 19).replace(/:/g, '-');
    const file = path.join(dir, `${stamp}-${runName}.json`);
    writeFileSync(file, `${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
    log(`\nresults: ${path.relative(repoRoot, file)} (${r.durationSec.toFixed(0)} s)`);
    if (o.report) {
      const written = writeReport(file, r);
      log(`report: ${written.map((f) => path.relative(repoRoot, f)).join(', ')}`);
    }
    if (o.updateReadme) {
      updateReadme(r, path.relative(repoRoot, file));
      if (o.report) updateReadmeCharts(path.join(repoRoot, 'bench', 'README.md'), readmeChartsMarkdown(path.relative(path.join(repoRoot, 'bench'), file), r));
      log('bench/README.md summary updated');
    }
  }
  if (o.keepTmp) log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

/** Rewrites the part of bench/README.md between the summary markers from this run's figures. */
function updateReadme(r: Results, file: string): void {
  const readme = path.join(repoRoot, 'bench', 'README.md');
  if (r.ensemble) updateEnsembleReadme(readme, r.ensemble, { command: r.command, date: r.date, machine: r.machine, versions: r.versions, file });
  if (r.jute?.load.length) replaceBlock(readme, 'jute', juteReadme(r, file));
  // A run of the ensemble section alone keeps the standalone summary of an earlier run.
  if (!(r.load.length || r.watch.length || r.memory.length || r.micro.length)) return;
  const start = '<!-- summary:start -->';
  const end = '<!-- summary:end -->';
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`bench/README.md has no ${start} ... ${end} section`);
  const m = r.machine;
  const parts = [
    `Latest figures: \`${r.command}\` on ${r.date.slice(0, 10)} — ${m.cpuModel}, ${m.cores} cores, ` +
      `${(m.memBytes / 2 ** 30).toFixed(0)} GiB, node ${m.nodeVersion}, ${m.kernel}` +
      `${r.versions.zookeeper ? `, ZooKeeper ${r.versions.zookeeper} (${r.versions.java ?? 'java'})` : ''}; ` +
      `load average at start ${m.loadAverage.map((x) => x.toFixed(1)).join(' / ')} (other work on the machine shows here). Full data: \`${file}\`.`,
  ];
  if (r.load.length) parts.push(`Load (${r.options.load.sessions} sessions x ${r.options.load.outstanding} outstanding, ${r.options.load.durationMs / 1000} s per shape):\n\n${F.markdownTable(F.loadHeader, F.loadRows(r.load))}`);
  if (r.ratios.length)
    parts.push(`zookooper / ZooKeeper:\n\n${F.markdownTable(['shape', 'workers', 'ops/s ratio', 'server µs/op ratio', 'p99 ratio'], r.ratios.map((x) => [x.shape, x.workers, F.fmt.n2(x.opsRatio), F.fmt.n2(x.cpuPerOpRatio), F.fmt.n2(x.p99Ratio)]))}`);
  if (r.watch.length) parts.push(`Watch fan-out:\n\n${F.markdownTable(F.watchHeader, F.watchRows(r.watch))}`);
  if (r.memory.length) parts.push(`Memory and recovery:\n\n${F.markdownTable(F.memoryHeader, F.memoryRows(r.memory))}`);
  if (r.load.length || r.watch.length || r.memory.length)
    parts.push(`Targets:\n\n${F.markdownTable(['target', 'figure', 'status'], r.targets.map((t) => [t.target, t.figure, t.met === null ? 'not measured' : t.met ? 'met' : 'missed']))}`);
  const micro = r.micro.filter((x) => x.opsPerSec !== null);
  if (micro.length) parts.push(`Micro (tinybench):\n\n${F.markdownTable(F.microHeader, F.microRows(r.micro))}`);
  if (r.skipped.length) parts.push(`Not run: ${r.skipped.map((s) => `${s.section}/${s.system} (${s.why})`).join('; ')}.`);
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${parts.join('\n\n')}\n${text.slice(b)}`);
}

/** The jute section's tables for bench/README.md (between <!-- jute:start --> and <!-- jute:end -->). */
function juteReadme(r: Results, file: string): string {
  const m = r.machine;
  const j = r.jute!;
  return [
    `Jute figures: \`${r.command}\` on ${r.date.slice(0, 16).replace('T', ' ')} UTC — ${m.cpuModel}, ${m.cores} cores, node ${m.nodeVersion}` +
      `${r.versions.zookeeper ? `, ZooKeeper ${r.versions.zookeeper} (${r.versions.java ?? 'java'})` : ''}; load average at start ${m.loadAverage.map((x) => x.toFixed(1)).join(' / ')} ` +
      `(a machine shared with other work: throughput and latency are noisy, server µs/op less so). Driver: bench/zk-driver/ZkDriver.java for both, ` +
      `${j.options.load.sessions} sessions x ${j.options.load.outstanding} outstanding, ${j.options.load.durationMs / 1000} s per shape; zookooper --workers ${j.options.workers}. Full data: \`${file}\`.`,
    F.markdownTable(juteHeader, juteRows(j.load)),
    j.ratios.length ? `zookooper / ZooKeeper (same driver):\n\n${F.markdownTable(juteRatioHeader, juteRatioRows(j.ratios))}` : 'No ZooKeeper rows in this run (no --vs-zookeeper).',
  ].join('\n\n');
}

function replaceBlock(readme: string, name: string, body: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`bench/README.md has no ${start} ... ${end} section`);
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    stopAllRunning();
    process.exit(130);
  });
}

main().catch((err: unknown) => {
  console.error(err);
  stopAllRunning();
  process.exit(1);
});
