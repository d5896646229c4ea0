// A session worker thread: one uWS App on the shared client port (SO_REUSEPORT spreads
// connections across workers). WebSocket frames go to WorkerCore; HTTP routes serve the state
// pages. Worker 0 also serves the jute (ZooKeeper protocol) port when there is one
// (jute-listener.ts; native-notes/jute.md). Nothing here touches the tree except through WorkerCore's reads.
// Security (native-notes/tls.md): the App is plain or an SSLApp (uws.ts createApp; replaced on a
// certificate reload), or, when client certificates are asked for, a plain App on a Unix socket
// behind worker 0's TLS front (tls-front.ts); the origin check, admin pages and the browser write
// gate are security.ts.
import type { SecureContextOptions } from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import { loadUi, uiAnswer } from '../http/static-ui.js';
import { consPage, sessionsPage, watchesPage } from '../http/gathered-pages.js';
import { healthPage, metricsPage, mntrPage, statPage, type WorkerFigures } from '../http/pages.js';
import { attachTree } from '../tree/index.js';
import { msgpackCodec } from './codec.js';
import { WorkerCore, type Conn } from './core.js';
import { listenJute, type JuteListener } from './jute-listener.js';
import { decodeFrame, encodeControl, encodeWrites } from './handoff-codec.js';
import { HandoffReceiver, HandoffSender } from './handoff.js';
import { buildReport, type Gathered } from './reports.js';
import { SendBatch } from './send-batch.js';
import type { CommitPortMessage, FrontSecure, ServerStats, ToMain, ToWorker, WorkerInit } from './messages.js';
import { adminAuthorized, browserWriteRefusal, corsHeaders, frontHeaderName, originAllowed, parseFrontHeader, type OriginPolicy } from './security.js';
import { startTlsFront, type TlsFront } from './tls-front.js';
import { createApp, uWS, uwsStatus } from './uws.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const logger = pino({ level: init.logLevel, base: { pid: process.pid, worker: init.workerId } });
// Writes and the messages that must stay in order with them travel as encoded frames on the
// request ring (handoff.ts); a full ring keeps them here, in order, until the main thread takes.
const requests = new HandoffSender(init.requestRing, init.requestSide, 'wait', constants.handoffInlineFrameBytesMax);
const toMain = (msg: ToMain): void => {
  switch (msg.kind) {
    case 'writes':
      requests.send(encodeWrites(msg.requests));
      break;
    case 'attach':
    case 'detach':
    case 'touch':
    case 'stats':
      requests.send(encodeControl(msg));
      break;
    default:
      port.postMessage(msg);
  }
};
const commits = new HandoffReceiver(init.commitRing, init.commitPort);
/** The next commit-ring message, if the main thread sent one (synchronous: engine.catchUp). */
function takeCommit(): CommitPortMessage | undefined {
  const taken = commits.take();
  if (taken === null) return undefined;
  if (taken.tree !== undefined) return { kind: 'tree', buffer: taken.tree };
  const frame = decodeFrame(taken.body);
  if (frame.kind !== 'commit') throw new Error(`worker: expected a commit frame, got ${frame.kind}`);
  return frame;
}

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

// The client port's gates (security.ts); admin users are replaced on SIGHUP.
const security = init.security;
let adminIds: ReadonlySet<string> | null = security.adminIds === null ? null : new Set(security.adminIds);
const originPolicy: OriginPolicy = { scheme: security.origins.scheme, ownHosts: new Set(security.origins.ownHosts), allowed: new Set(security.origins.allowed) };

const tree = attachTree(treeBuffer);
const core = new WorkerCore({
  workerId: init.workerId,
  tree,
  takeCommit,
  toMain,
  defer: (fn) => void setImmediate(fn),
  openTree: attachTree,
  now: Date.now,
  dataBytesMax: init.dataBytesMax,
  outstandingWritesMax: Math.max(1, Math.floor(constants.outstandingRequestsPerServerMax / 4)),
  writeGate: (conn, op) => browserWriteRefusal(conn, op, adminIds),
});
const codec = msgpackCodec({ dataBytesMax: init.dataBytesMax, frameBytesMax: constants.frameBytesMax });
const perAddress = new Map<string, number>();

const sendBatch = new SendBatch();
function processCommits(): boolean {
  sendBatch.run(() => {
    for (let m = takeCommit(); m !== undefined; m = takeCommit()) core.commit(m);
  });
  return true;
}
commits.start(processCommits);

interface UserData {
  conn: Conn | null;
  remote: string;
  closed: boolean;
  x509: string | null;
  browser: boolean;
}

// ---- HTTP state pages: figures from the main thread, asked for per request ----
// Every HTTP answer closes its connection (`end(body, true)`): an idle keep-alive connection
// would keep this thread's uWS loop alive at stop, and terminating a worker with open sockets
// aborts the process. Requests still waiting for figures at stop are answered 503.
// The main thread answers two kinds of request by reqId: 'stats' (its figures) and 'gather'
// (every worker's connections and watches, gather.ts; the main thread answers it within
// constants.workerReportTimeoutMs, naming the workers that did not report).
let askSeq = 0;
const waits = new Map<number, { answer: (value: unknown) => void; abandon: () => void }>();
function ask<T>(msg: (reqId: number) => ToMain): Promise<T> {
  return new Promise((resolve, reject) => {
    const reqId = ++askSeq;
    waits.set(reqId, { answer: (v) => resolve(v as T), abandon: () => reject(new Error('server stopping')) });
    toMain(msg(reqId));
  });
}
/** The main thread's figures (`dump`: with the session table and the ephemerals). */
const askStats = (dump = false): Promise<ServerStats> => ask((reqId) => (dump ? { kind: 'stats', reqId, dump } : { kind: 'stats', reqId }));
/** Every worker's connections and watches, lists at most `entriesMax` long (0: counts only). */
const askGather = (entriesMax: number): Promise<Gathered> => ask((reqId) => ({ kind: 'gather', reqId, entriesMax }));

type Page = { status?: number; type: string; body: string };
/** Answers `res` with the page once its figures are in (503 if the server stops first). */
function answerWhen(res: uWS.HttpResponse, figures: Promise<Page>, headers: [string, string][] = []): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const write = (status: string, type: string, body: string): void => {
    if (aborted) return;
    res.cork(() => {
      res.writeStatus(status);
      for (const [k, v] of headers) res.writeHeader(k, v);
      res.writeHeader('content-type', type);
      res.end(body, true);
    });
  };
  figures.then(
    (page) => write(page.status === 503 ? '503 Service Unavailable' : '200 OK', page.type, page.body),
    () => write('503 Service Unavailable', 'text/plain', 'server stopping\n'),
  );
}
function withStats(res: uWS.HttpResponse, render: (s: ServerStats) => Page, headers: [string, string][] = []): void {
  answerWhen(res, askStats().then(render), headers);
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
    retiredApps: retiredApps.size,
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

/**
 * An admin page: with --admin-users, HTTP Basic auth of an admin user (401 otherwise); CORS
 * headers for an allowed Origin. Headers are read here: uWS's request is valid only in the handler.
 */
function adminPage(page: (res: uWS.HttpResponse, headers: [string, string][]) => void): (res: uWS.HttpResponse, req: uWS.HttpRequest) => void {
  return (res, req) => {
    const headers = corsHeaders(req.getHeader('origin'), req.getHeader('host'), originPolicy);
    if (!adminAuthorized(req.getHeader('authorization'), adminIds)) {
      res.writeStatus('401 Unauthorized');
      for (const [k, v] of headers) res.writeHeader(k, v);
      res.writeHeader('www-authenticate', 'Basic realm="zookooper admin", charset="UTF-8"').end('an admin user is needed (--admin-users)\n', true);
      return;
    }
    page(res, headers);
  };
}

/** The client's address and certificate: from the TLS front's header in front mode (null: not the front's). */
function peerOf(res: uWS.HttpResponse, req: uWS.HttpRequest): { remote: string; x509: string | null } | null {
  if (security.mode !== 'front') return { remote: Buffer.from(res.getRemoteAddressAsText()).toString(), x509: null };
  return parseFrontHeader(req.getHeader(frontHeaderName), security.frontSecret ?? '');
}

const json = 'application/json';
const uiFiles = loadUi();
/**
 * An App and the WebSocket connections it serves: a certificate reload retires the App (its
 * listen socket closed); the last of its connections closing drops our reference to it.
 */
interface AppRecord {
  app: uWS.TemplatedApp;
  connections: number;
  retired: boolean;
}
function connectionClosed(rec: AppRecord): void {
  rec.connections -= 1;
  assert(rec.connections >= 0, 'an App closed more connections than it opened');
  if (rec.retired && rec.connections === 0) releaseApp(rec);
}
const routes = (rec: AppRecord): AppRecord => {
  routesOf(rec.app, rec);
  return rec;
};
const routesOf = (app: uWS.TemplatedApp, rec: AppRecord): uWS.TemplatedApp => app
  .ws<UserData>('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: constants.frameBytesMax,
    maxBackpressure: constants.socketBackpressureBytesMax,
    closeOnBackpressureLimit: 1,
    idleTimeout: 0, // liveness is the session's business (pings), checked in closeIdle
    upgrade: (res, req, context) => {
      // A browser on a page of another site must not reach the server (security.ts originAllowed).
      const origin = req.getHeader('origin');
      if (!originAllowed(origin, req.getHeader('host'), originPolicy)) {
        res.writeStatus('403 Forbidden').end(`origin ${origin} not allowed (--allowed-origins)\n`, true);
        return;
      }
      const peer = peerOf(res, req);
      if (peer === null) {
        res.writeStatus('400 Bad Request').end('not through the TLS front\n', true);
        return;
      }
      res.upgrade<UserData>(
        { conn: null, remote: peer.remote, closed: false, x509: peer.x509, browser: origin !== '' },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      rec.connections += 1;
      const data = ws.getUserData();
      const count = perAddress.get(data.remote) ?? 0;
      // Counted in admit() for jute connections; here it also decides (the kill below).
      const conn = core.open(
        sendBatch.socket({
          send: (frame) => void ws.send(frame, true),
          end: () => ws.end(1000),
          cork: (fn) => void ws.cork(fn),
          closed: () => data.closed,
        }),
        data.remote,
        codec,
        { x509: data.x509, browser: data.browser },
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
      data.closed = true;
      releaseAddress(data.remote);
      if (data.conn) core.closed(data.conn);
      connectionClosed(rec);
    },
  })
  .get('/health', (res, req) => withStats(res, (s) => ({ type: json, ...healthPage(s) }), corsHeaders(req.getHeader('origin'), req.getHeader('host'), originPolicy)))
  .get('/metrics', adminPage((res, h) => withStats(res, (s) => ({ type: 'text/plain; version=0.0.4', body: metricsPage(s, figures()) }), h)))
  .get('/stat', adminPage((res, h) => withStats(res, (s) => ({ type: json, body: statPage(s, figures()) }), h)))
  .get('/mntr', adminPage((res, h) => answerWhen(res, Promise.all([askStats(), askGather(0)]).then(([s, g]) => ({ type: json, body: mntrPage(s, figures(), g) })), h)))
  // Every worker's connections, watches, sessions (gathered-pages.ts): what the console's Sessions view reads.
  .get('/cons', adminPage((res, h) => answerWhen(res, askGather(constants.dumpEntriesMax).then((g) => ({ type: json, body: consPage(g, init.workerId) })), h)))
  .get('/watches', adminPage((res, h) => answerWhen(res, askGather(constants.dumpEntriesMax).then((g) => ({ type: json, body: watchesPage(g, init.workerId) })), h)))
  .get('/sessions', adminPage((res, h) => answerWhen(res, Promise.all([askStats(true), askGather(constants.dumpEntriesMax)]).then(([s, g]) => ({ type: json, body: sessionsPage(s.dump, g, init.workerId) })), h)))
  .options('/*', (res, req) => {
    // CORS preflight (a page sending Authorization asks first): allowed origins get the headers.
    res.writeStatus('204 No Content');
    for (const [k, v] of corsHeaders(req.getHeader('origin'), req.getHeader('host'), originPolicy)) res.writeHeader(k, v);
    res.end(undefined, true);
  })
  .get('/ui', (res) => sendUi(res, '/ui'))
  .get('/ui/*', (res, req) => sendUi(res, req.getUrl()))
  .any('/*', (res) => {
    res.writeStatus('404 Not Found').end('not found: try /health, /metrics, /stat, /mntr, /cons, /watches, /sessions or a WebSocket\n', true);
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
let front: TlsFront | null = null;
// Apps replaced by a certificate reload: they stopped listening and serve their connections on;
// each leaves this set (and can be collected) when its last connection closes.
const retiredApps = new Set<AppRecord>();
const newApp = (): AppRecord => routes({ app: createApp(security.uwsTls), connections: 0, retired: false });
let app = newApp();
function releaseApp(rec: AppRecord): void {
  assert(rec.retired, 'only a retired App is released');
  retiredApps.delete(rec);
}

/** node:tls options from the PEM texts. */
function nodeTls(p: FrontSecure): SecureContextOptions {
  return { cert: p.cert, key: p.key, ...(p.ca !== null ? { ca: p.ca } : {}), ...(p.passphrase !== null ? { passphrase: p.passphrase } : {}) };
}

/** SIGHUP: new certificates for new connections, new admin users for every check from now on. */
function reloadSecurity(msg: Extract<ToWorker, { kind: 'reloadSecurity' }>): void {
  adminIds = msg.adminIds === null ? null : new Set(msg.adminIds);
  const done = (error: string | null): void => toMain({ kind: 'securityReloaded', workerId: init.workerId, error });
  if (msg.tls !== null) jute?.reload(nodeTls(msg.tls));
  if (front !== null && msg.tls !== null) {
    front.reload(nodeTls(msg.tls));
    return done(null);
  }
  if (security.mode !== 'uws-tls' || listenSocket === null) return done(null);
  // uWS cannot swap an SSLApp's default context, so a new SSLApp (uSockets re-reads the files)
  // listens beside the old one (SO_REUSEPORT), then the old one stops listening: its
  // connections live on in it. A connection in the old socket's accept queue at that instant
  // is reset (Linux does not move it); clients reconnect.
  let next: AppRecord;
  try {
    next = newApp();
  } catch (err) {
    return done(`cannot load the certificate files: ${(err as Error).message}`);
  }
  next.app.listen(init.host, init.port, (token) => {
    if (!token || listenSocket === null) return done(token ? 'stopping' : `cannot listen on ${init.host}:${init.port} with the new certificate`);
    uWS.us_listen_socket_close(listenSocket);
    listenSocket = token;
    app.retired = true;
    if (app.connections === 0) releaseApp(app);
    else retiredApps.add(app);
    app = next;
    done(null);
  });
}
const housekeeping = setInterval(() => {
  const touched = core.takeTouched();
  if (touched.length > 0) toMain({ kind: 'touch', sessionIds: touched });
  core.closeIdle(Date.now());
}, Math.max(10, Math.min(1_000, Math.floor(init.tickMs / 2))));

port.on('message', (msg: ToWorker) => {
  // Commits sent before this message are processed first (the two travel different ways).
  processCommits();
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
    case 'stats':
    case 'gathered': {
      const w = waits.get(msg.reqId);
      waits.delete(msg.reqId);
      w?.answer(msg.kind === 'stats' ? msg.stats : msg.gathered);
      break;
    }
    case 'askReport':
      // After processCommits above: the watches reported are those of every commit seen so far.
      port.postMessage({ kind: 'report', gatherId: msg.gatherId, report: buildReport(init.workerId, core.conns.values(), msg.entriesMax) } satisfies ToMain);
      break;
    case 'reloadSecurity':
      reloadSecurity(msg);
      break;
    case 'stop':
      // Listen socket first: uWS aborts the process if a thread exits with it open.
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = null;
      front?.close();
      front = null;
      clearInterval(housekeeping);
      core.closeAll();
      jute?.close();
      jute = null;
      for (const w of waits.values()) w.abandon();
      waits.clear();
      commits.stop();
      init.commitPort.close();
      init.requestSide.close();
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
      tls: security.jute === null ? null : { secure: nodeTls(security.jute.secure), clientAuth: security.jute.clientAuth },
      admit: admitAddress,
      release: releaseAddress,
      fourLetter: {
        whitelist: init.fourLetter.whitelist,
        conf: init.fourLetter.conf,
        stats: askStats,
        figures,
        gather: askGather,
      },
    });
  } catch (err) {
    const reason = `cannot listen on ${init.host}:${init.zkPort} (--zk-port): ${(err as Error).message}`;
    // The default (client port + 1000) was not asked for: a busy one must not stop the server.
    if (init.zkPortOptional) logger.warn(`${reason}; serving without the ZooKeeper-protocol port (set --zk-port N, or off)`);
    else toMain({ kind: 'listenFailed', workerId: init.workerId, reason });
  }
}

// Front mode: this App listens on its private Unix socket; worker 0 runs the TLS front on host:port.
const onListen = async (token: uWS.us_listen_socket | false): Promise<void> => {
  if (!token) {
    toMain({ kind: 'listenFailed', workerId: init.workerId, reason: `cannot listen on ${security.unixPath ?? `${init.host}:${init.port}`}` });
    return;
  }
  listenSocket = token;
  if (security.front !== null) {
    const f = security.front;
    try {
      front = await startTlsFront({
        host: init.host,
        port: init.port,
        secure: nodeTls(f.secure),
        clientAuth: f.clientAuth,
        targets: f.targets,
        secret: security.frontSecret!,
        logger,
      });
    } catch (err) {
      toMain({ kind: 'listenFailed', workerId: init.workerId, reason: `cannot listen on ${init.host}:${init.port} (TLS): ${(err as Error).message}` });
      return;
    }
  }
  if (!uws.native) logger.error('uWebSockets.js JS fallback in use: expect much lower throughput');
  toMain({ kind: 'ready', workerId: init.workerId, native: uws.native, zkPort: jute?.port ?? null });
};
if (security.unixPath !== null) app.app.listen_unix((token) => void onListen(token), security.unixPath);
else app.app.listen(init.host, init.port, (token) => void onListen(token));
