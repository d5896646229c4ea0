// A session worker thread: one uWS App on the shared client port (SO_REUSEPORT spreads
// connections across workers). WebSocket frames go to WorkerCore; HTTP routes serve the state
// pages. Worker 0 also serves the jute (ZooKeeper protocol) port when there is one
// (jute-listener.ts; native-notes/jute.md). Nothing here touches the tree except through WorkerCore's reads.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { constants } from '../../common/constants.js';
import { loadUi, uiAnswer } from '../http/static-ui.js';
import { consPage, healthPage, metricsPage, mntrPage, statPage, type WorkerFigures } from '../http/pages.js';
import { attachTree } from '../tree/index.js';
import { msgpackCodec } from './codec.js';
import { WorkerCore, type Conn } from './core.js';
import { listenJute, type JuteListener } from './jute-listener.js';
import type { CommitPortMessage, ServerStats, ToMain, ToWorker, WorkerInit } from './messages.js';
import { uWS, uwsStatus } from './uws.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const logger = pino({ level: init.logLevel, base: { pid: process.pid, worker: init.workerId } });
const toMain = (msg: ToMain): void => port.postMessage(msg);

// Started while the main thread recovers the data dir: wait for the tree before anything else
// (the main thread listens for our messages only from then on).
const treeBuffer = await new Promise<SharedArrayBuffer>((resolve) => {
  port.once('message', (msg: ToWorker) => {
    if (msg.kind !== 'tree') throw new Error(`worker: expected the tree first, got ${msg.kind}`);
    resolve(msg.buffer);
  });
});

const uws = uwsStatus();
if (!uws.native && !init.allowUwsFallback) {
  toMain({ kind: 'listenFailed', workerId: init.workerId, reason: `uWebSockets.js native binary not loaded: ${uws.detail}` });
}

const tree = attachTree(treeBuffer);
const core = new WorkerCore({
  workerId: init.workerId,
  tree,
  takeCommit: () => receiveMessageOnPort(init.commitPort)?.message as CommitPortMessage | undefined,
  toMain,
  defer: (fn) => void setImmediate(fn),
  openTree: attachTree,
  now: Date.now,
  dataBytesMax: init.dataBytesMax,
  outstandingWritesMax: Math.max(1, Math.floor(constants.outstandingRequestsPerServerMax / 4)),
});
const codec = msgpackCodec({ dataBytesMax: init.dataBytesMax, frameBytesMax: constants.frameBytesMax });
const perAddress = new Map<string, number>();

init.commitPort.on('message', (msg: CommitPortMessage) => core.commit(msg));

interface UserData {
  conn: Conn | null;
  remote: string;
}

// ---- HTTP state pages: figures from the main thread, asked for per request ----
// Every HTTP answer closes its connection (`end(body, true)`): an idle keep-alive connection
// would keep this thread's uWS loop alive at stop, and terminating a worker with open sockets
// aborts the process. Requests still waiting for figures at stop are answered 503.
let statsSeq = 0;
const statsWaits = new Map<number, { answer: (s: ServerStats) => void; abandon: () => void }>();
function withStats(res: uWS.HttpResponse, render: (s: ServerStats) => { status?: number; type: string; body: string }): void {
  let aborted = false;
  const reqId = ++statsSeq;
  res.onAborted(() => {
    aborted = true;
    statsWaits.delete(reqId);
  });
  statsWaits.set(reqId, {
    answer: (stats) => {
      if (aborted) return;
      const page = render(stats);
      res.cork(() => {
        res.writeStatus(page.status === 503 ? '503 Service Unavailable' : '200 OK');
        res.writeHeader('content-type', page.type);
        res.end(page.body, true);
      });
    },
    abandon: () => {
      if (aborted) return;
      res.cork(() => {
        res.writeStatus('503 Service Unavailable').end('server stopping\n', true);
      });
    },
  });
  toMain({ kind: 'stats', reqId });
}

/** The main thread's figures, for a four-letter word (the same request as the HTTP pages'). */
function askStats(): Promise<ServerStats> {
  return new Promise((resolve, reject) => {
    const reqId = ++statsSeq;
    statsWaits.set(reqId, { answer: resolve, abandon: () => reject(new Error('server stopping')) });
    toMain({ kind: 'stats', reqId });
  });
}

function figures(): WorkerFigures {
  return {
    workerId: init.workerId,
    connections: core.conns.size,
    watches: core.watchCount(),
    requestsServed: core.figures.requests,
    readsServed: core.figures.reads,
    writesForwarded: core.figures.writes,
    throttled: core.figures.throttled,
    malformedFrames: core.figures.malformed,
    connectionList: [...core.conns.values()].slice(0, 10_000).map((c) => ({
      remote: c.remote,
      sessionId: '0x' + c.sessionId.toString(16),
      queued: c.queue.length - c.queueHead,
      watches: c.watchCount,
      received: c.received,
      sent: c.sent,
    })),
  };
}

function releaseAddress(remote: string): void {
  const n = (perAddress.get(remote) ?? 1) - 1;
  if (n <= 0) perAddress.delete(remote);
  else perAddress.set(remote, n);
}

/** maxClientCnxns for a jute connection: counted with the WebSocket ones of this worker. */
function admitAddress(remote: string): boolean {
  const n = (perAddress.get(remote) ?? 0) + 1;
  perAddress.set(remote, n);
  return init.connectionsPerAddressMax === 0 || n <= init.connectionsPerAddressMax;
}

const json = 'application/json';
const uiFiles = loadUi();
const app = uWS
  .App()
  .ws<UserData>('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: constants.frameBytesMax,
    maxBackpressure: constants.socketBackpressureBytesMax,
    closeOnBackpressureLimit: 1,
    idleTimeout: 0, // liveness is the session's business (pings), checked in closeIdle
    upgrade: (res, req, context) => {
      const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
      res.upgrade<UserData>(
        { conn: null, remote },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      const data = ws.getUserData();
      const count = perAddress.get(data.remote) ?? 0;
      // Counted in admit() for jute connections; here it also decides (the kill below).
      const conn = core.open(
        {
          send: (frame) => void ws.send(frame, true),
          end: () => ws.end(1000),
          cork: (fn) => void ws.cork(fn),
        },
        data.remote,
        codec,
      );
      data.conn = conn;
      perAddress.set(data.remote, count + 1);
      if (init.connectionsPerAddressMax > 0 && count + 1 > init.connectionsPerAddressMax) {
        core.kill(conn, 'THROTTLEDOP', `too many connections from ${data.remote} (maxClientCnxns ${init.connectionsPerAddressMax})`);
      }
    },
    message: (ws, message, isBinary) => {
      const conn = ws.getUserData().conn;
      if (conn) core.receive(conn, new Uint8Array(message), isBinary);
    },
    close: (ws) => {
      const data = ws.getUserData();
      releaseAddress(data.remote);
      if (data.conn) core.closed(data.conn);
    },
  })
  .get('/health', (res) => withStats(res, (s) => ({ type: json, ...healthPage(s) })))
  .get('/metrics', (res) => withStats(res, (s) => ({ type: 'text/plain; version=0.0.4', body: metricsPage(s, figures()) })))
  .get('/stat', (res) => withStats(res, (s) => ({ type: json, body: statPage(s, figures()) })))
  .get('/mntr', (res) => withStats(res, (s) => ({ type: json, body: mntrPage(s, figures()) })))
  .get('/cons', (res) => {
    res.writeHeader('content-type', json).end(consPage(figures()), true);
  })
  .get('/ui', (res) => sendUi(res, '/ui'))
  .get('/ui/*', (res, req) => sendUi(res, req.getUrl()))
  .any('/*', (res) => {
    res.writeStatus('404 Not Found').end('not found: try /health, /metrics, /stat, /mntr, /cons or a WebSocket\n', true);
  });

function sendUi(res: uWS.HttpResponse, url: string): void {
  const a = uiAnswer(uiFiles, url);
  res.cork(() => {
    res.writeStatus(a.status);
    for (const [k, v] of a.headers) res.writeHeader(k, v);
    res.end(a.body, true);
  });
}

let listenSocket: uWS.us_listen_socket | null = null;
let jute: JuteListener | null = null;
const housekeeping = setInterval(() => {
  const touched = core.takeTouched();
  if (touched.length > 0) toMain({ kind: 'touch', sessionIds: touched });
  core.closeIdle(Date.now());
}, Math.max(10, Math.min(1_000, Math.floor(init.tickMs / 2))));

port.on('message', (msg: ToWorker) => {
  switch (msg.kind) {
    case 'attached':
    case 'attachFailed':
      core.attachAnswer(msg);
      break;
    case 'moved':
      core.moved(msg.sessionId, msg.connId);
      break;
    case 'tree':
      // The first tree was awaited above; a later one comes on the commit port (TreeSwap), ordered
      // with the commits. One on this port is a programming error of the main thread.
      throw new Error('worker: a new tree must come on the commit port');
    case 'serving':
      core.setServing(msg.serving, msg.reason);
      break;
    case 'stats': {
      const w = statsWaits.get(msg.reqId);
      statsWaits.delete(msg.reqId);
      w?.answer(msg.stats);
      break;
    }
    case 'stop':
      // Listen socket first: uWS aborts the process if a thread exits with it open.
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = null;
      clearInterval(housekeeping);
      core.closeAll();
      jute?.close();
      jute = null;
      for (const w of statsWaits.values()) w.abandon();
      statsWaits.clear();
      init.commitPort.close();
      toMain({ kind: 'stopped', workerId: init.workerId });
      port.close();
      break;
  }
});

// The jute listener first (one worker has it: native-notes/jute.md), then the WebSocket port.
if (init.zkPort !== null) {
  try {
    jute = await listenJute({
      core,
      logger,
      host: init.host,
      port: init.zkPort,
      dataBytesMax: init.dataBytesMax,
      admit: admitAddress,
      release: releaseAddress,
      fourLetter: {
        whitelist: init.fourLetter.whitelist,
        conf: init.fourLetter.conf,
        stats: askStats,
        figures,
        conns: () => core.conns.values(),
      },
    });
  } catch (err) {
    const reason = `cannot listen on ${init.host}:${init.zkPort} (--zk-port): ${(err as Error).message}`;
    // The default (client port + 1000) was not asked for: a busy one must not stop the server.
    if (init.zkPortOptional) logger.warn(`${reason}; serving without the ZooKeeper-protocol port (set --zk-port N, or off)`);
    else toMain({ kind: 'listenFailed', workerId: init.workerId, reason });
  }
}

app.listen(init.host, init.port, (token) => {
  if (!token) {
    toMain({ kind: 'listenFailed', workerId: init.workerId, reason: `cannot listen on ${init.host}:${init.port}` });
    return;
  }
  listenSocket = token;
  if (!uws.native) logger.error('uWebSockets.js JS fallback in use: expect much lower throughput');
  toMain({ kind: 'ready', workerId: init.workerId, native: uws.native, zkPort: jute?.port ?? null });
});
