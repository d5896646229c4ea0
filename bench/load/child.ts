// A load generator process, forked by the orchestrator (never the server's process). It opens its
// share of the sessions with the real client library and drives them as the parent says over IPC.
// Every loop ends on a parent message or a deadline; on any failure the process reports the error
// and exits.
import { performance } from 'node:perf_hooks';
import { loadConnect, type BenchClient, type Connect } from '../lib/client.js';
import { encodeHistogram, newHistogram, type Histogram } from '../lib/histogram.js';
import type { FromChild, LoadSetup, Populate, ToChild, WatchSetup } from './protocol.js';

const send = (msg: FromChild): void => {
  process.send?.(msg);
};

let connectFn: Connect | undefined;
let clients: BenchClient[] = [];

async function getConnect(): Promise<Connect> {
  connectFn ??= await loadConnect();
  return connectFn;
}

/**
 * Opens n sessions, at most `parallel` handshakes at a time. A connect string of several entries
 * separated by '|' pins session i to entry (offset + i) % entries alone: the sessions of all the
 * generator processes spread evenly over an ensemble's servers.
 */
async function openSessions(connectString: string, n: number, sessionTimeoutMs: number, parallel = 100, offset = 0): Promise<BenchClient[]> {
  const targets = connectString.split('|');
  const connect = await getConnect();
  const out: BenchClient[] = new Array<BenchClient>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await connect(targets[(offset + i) % targets.length]!, { sessionTimeoutMs, connectTimeoutMs: 30_000 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return out;
}

async function closeAll(): Promise<void> {
  const all = clients;
  clients = [];
  await Promise.all(
    all.map((c) => Promise.race([c.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5_000))])),
  );
}

// ------------------------------------------------------------------------------------ load

interface LoadState {
  setup: LoadSetup;
  recording: boolean;
  stopping: boolean;
  windowStart: number;
  windowEnd: number;
  ops: number;
  errors: number;
  firstError: string | null;
  inflight: number;
  hist: Histogram;
  value: Buffer;
}

let load: LoadState | undefined;

async function loadSetup(setup: LoadSetup): Promise<void> {
  const t0 = performance.now();
  clients = await openSessions(setup.connectString, setup.sessions, setup.sessionTimeoutMs, 100, setup.sessionOffset ?? 0);
  load = {
    setup,
    recording: false,
    stopping: false,
    windowStart: 0,
    windowEnd: 0,
    ops: 0,
    errors: 0,
    firstError: null,
    inflight: 0,
    hist: newHistogram(),
    value: Buffer.alloc(setup.valueBytes, 'x'),
  };
  send({ type: 'ready', connectMs: performance.now() - t0 });
}

/** One of a session's K outstanding requests: sends the next as soon as one is answered. */
async function slot(st: LoadState, zk: BenchClient, session: number, k: number): Promise<void> {
  const { shape, nodes, outstanding, procIndex } = st.setup;
  const dataPath = `/bench/n-${(session * outstanding + k) % nodes}`;
  const ephPath = `/bench/e-${procIndex}-${session}-${k}`;
  let ephCreated = false;
  st.inflight++;
  try {
    // An ephemeral slot stops only after deleting what it created, so each run starts clean.
    while (!st.stopping || ephCreated) {
      const t0 = performance.now();
      try {
        switch (shape) {
          case 'get':
            await zk.getData(dataPath);
            break;
          case 'set':
            await zk.setData(dataPath, st.value);
            break;
          case 'mix':
            if (Math.random() < 0.1) await zk.setData(dataPath, st.value);
            else await zk.getData(dataPath);
            break;
          case 'eph':
            if (ephCreated) await zk.delete(ephPath);
            else await zk.create(ephPath, st.value, { mode: 'ephemeral' });
            ephCreated = !ephCreated;
            break;
        }
        if (st.recording) {
          st.ops++;
          st.hist.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        }
      } catch (err) {
        st.errors++;
        st.firstError ??= `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`.trim();
        if (shape === 'eph' && (err as { code?: string }).code === 'NONODE') ephCreated = false;
        if (shape === 'eph' && (err as { code?: string }).code === 'NODEEXISTS') ephCreated = true;
        // A dead session would spin here: back off a little and let the deadline end the run.
        if (st.errors > 10_000) await new Promise((r) => setTimeout(r, 10));
        if ((zk.state === 'closed' || zk.state === 'expired') && ephCreated) ephCreated = false;
      }
    }
  } finally {
    st.inflight--;
  }
}

async function loadRun(): Promise<void> {
  const st = load;
  if (st === undefined) throw new Error('go before load-setup');
  const runs: Promise<void>[] = [];
  clients.forEach((zk, s) => {
    for (let k = 0; k < st.setup.outstanding; k++) runs.push(slot(st, zk, s, k));
  });
  // Wait for 'measure-end' (sets stopping), then for every slot to finish, bounded.
  const drained = Promise.all(runs);
  await drained;
}

async function loadFinish(): Promise<void> {
  const st = load;
  if (st === undefined) return;
  const deadline = performance.now() + 30_000;
  while (st.inflight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  send({
    type: 'load-result',
    ops: st.ops,
    windowMs: st.windowEnd - st.windowStart,
    errors: st.errors,
    firstError: st.firstError,
    histogram: encodeHistogram(st.hist),
    unfinished: st.inflight,
  });
}

// ------------------------------------------------------------------------------------ watch

interface WatchState {
  setup: WatchSetup;
}
let watch: WatchState | undefined;

async function watchSetup(setup: WatchSetup): Promise<void> {
  const t0 = performance.now();
  clients = await openSessions(setup.connectString, setup.count, setup.sessionTimeoutMs, 100, setup.sessionOffset ?? 0);
  watch = { setup };
  send({ type: 'ready', connectMs: performance.now() - t0 });
}

async function watchArm(round: number, timeoutMs: number): Promise<void> {
  const w = watch;
  if (w === undefined) throw new Error('watch-arm before watch-setup');
  const n = clients.length;
  const times = new Array<number>(n).fill(0);
  let fired = 0;
  let finish: () => void = () => {};
  const allFired = new Promise<void>((r) => (finish = r));
  await Promise.all(
    clients.map((zk, i) =>
      zk.getData(w.setup.path, {
        watch: (ev) => {
          if (ev.type !== 'dataChanged' || times[i] !== 0) return;
          times[i] = Number(process.hrtime.bigint()); // CLOCK_MONOTONIC: comparable across processes
          if (++fired === n) finish();
        },
      }),
    ),
  );
  send({ type: 'armed', round });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([allFired, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
  send({ type: 'notified', round, timesNs: times, missing: n - fired });
}

// ------------------------------------------------------------------------------------ populate

async function populate(p: Populate): Promise<void> {
  const t0 = performance.now();
  clients = await openSessions(p.connectString, p.sessions, 30_000);
  const value = Buffer.alloc(p.valueBytes, 'v');
  let next = p.from;
  let errors = 0;
  let firstError: string | null = null;
  const batch = p.batch ?? 1;
  const worker = async (zk: BenchClient): Promise<void> => {
    while (next < p.to) {
      const i = next;
      const n = Math.min(batch, p.to - i);
      next += n;
      try {
        if (batch === 1) await zk.create(`/mem/${Math.floor(i / p.fanout)}/${i % p.fanout}`, value);
        // One multi of n creates: one txn, so a large tree is built in fewer log records.
        else await zk.multi(Array.from({ length: n }, (_, j) => ({ op: 'create' as const, path: `/mem/${Math.floor((i + j) / p.fanout)}/${(i + j) % p.fanout}`, data: value })));
      } catch (err) {
        errors++;
        firstError ??= `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
        if (errors > 1000) throw err;
      }
    }
  };
  const runs: Promise<void>[] = [];
  for (const zk of clients) for (let k = 0; k < p.outstanding; k++) runs.push(worker(zk));
  await Promise.all(runs);
  await closeAll();
  send({ type: 'populated', created: p.to - p.from - errors, errors, firstError, ms: performance.now() - t0 });
}

// ------------------------------------------------------------------------------------ dispatch

let loadRunning: Promise<void> | undefined;

process.on('message', (raw) => {
  const msg = raw as ToChild;
  const fail = (err: unknown): void => {
    send({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
  };
  switch (msg.type) {
    case 'load-setup':
      loadSetup(msg).catch(fail);
      break;
    case 'go':
      loadRunning = loadRun().catch(fail);
      break;
    case 'measure-start':
      if (load) {
        load.windowStart = performance.now();
        load.recording = true;
      }
      break;
    case 'measure-end':
      if (load) {
        load.windowEnd = performance.now();
        load.recording = false;
        load.stopping = true;
        loadFinish().catch(fail);
      }
      break;
    case 'watch-setup':
      watchSetup(msg).catch(fail);
      break;
    case 'watch-arm':
      watchArm(msg.round, msg.timeoutMs).catch(fail);
      break;
    case 'populate':
      populate(msg).catch(fail);
      break;
    case 'close':
      void (async () => {
        await Promise.race([loadRunning, new Promise((r) => setTimeout(r, 10_000))]);
        await closeAll();
        send({ type: 'closed' });
        process.disconnect?.();
        setTimeout(() => process.exit(0), 100).unref();
      })();
      break;
  }
});

process.on('disconnect', () => {
  // The orchestrator is gone: do not linger.
  setTimeout(() => process.exit(0), 1_000).unref();
});
