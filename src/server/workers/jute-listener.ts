// The jute listener: plain TCP (or TLS with the client port's certificate, as ZooKeeper's
// secureClientPort: x509 ids from client certificates as on the TLS front), ZooKeeper's framing (4-byte big-endian length + record), served in
// one session worker (native-notes/jute.md says why one). Each connection gets its own jute codec
// and is driven by the same WorkerCore as the WebSocket connections: one session table, one watch
// registry, one ordering engine. A bad frame closes only its own connection, with a log line.
import { createServer, type Server, type Socket as NetSocket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { ClientAuth } from '../../common/security-config.js';
import type { Logger } from 'pino';
import { constants } from '../../common/constants.js';
import type { Conn, WorkerCore } from './core.js';
import { fourLetterAnswer, fourLetterWordOf, type FourLetterContext } from './jute-4lw.js';
import { juteCodec } from './jute-codec.js';
import { verifiedSubject } from './tls-front.js';

export interface JuteListenerOptions {
  core: WorkerCore;
  logger: Logger;
  host: string;
  port: number;
  dataBytesMax: number;
  /** maxClientCnxns: false refuses the connection (counted with the WebSocket ones). */
  admit(remote: string): boolean;
  release(remote: string): void;
  fourLetter: FourLetterContext;
  /** TLS with these certificates; null = plain TCP. */
  tls: { secure: SecureContextOptions; clientAuth: ClientAuth } | null;
}

export interface JuteListener {
  port: number;
  /** New certificates for new connections (SIGHUP); a plain listener ignores it. */
  reload(secure: SecureContextOptions): void;
  close(): void;
}

/** Frames a client may send after its ConnectRequest before the answer (held, then served). */
const heldFramesMax = 64;

export function listenJute(o: JuteListenerOptions): Promise<JuteListener> {
  const sockets = new Set<NetSocket>();
  // jute.maxbuffer applies to the frame length, as ZooKeeper's server applies it.
  const frameMax = constants.juteMaxBufferBytes;
  const accept = (socket: NetSocket, x509: string | null): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(o, socket, frameMax, x509);
  };
  const tls = o.tls;
  let server: Server;
  if (tls === null) server = createServer({ noDelay: true }, (socket) => accept(socket, null));
  else {
    const secure = createTlsServer({ ...tls.secure, requestCert: tls.clientAuth !== 'none', rejectUnauthorized: tls.clientAuth === 'need' });
    secure.on('secureConnection', (socket: TLSSocket) => {
      socket.setNoDelay(true);
      const x509 = verifiedSubject(socket, tls.clientAuth, o.logger);
      if (x509 === undefined) socket.destroy();
      else accept(socket, x509);
    });
    secure.on('tlsClientError', (_err, socket) => socket.destroy());
    server = secure;
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', (err) => o.logger.error({ err }, 'jute listener error'));
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : o.port;
      resolve({
        port,
        reload(secureOptions) {
          if (tls !== null) (server as ReturnType<typeof createTlsServer>).setSecureContext(secureOptions);
        },
        close() {
          server.close();
          for (const s of sockets) s.destroy();
          sockets.clear();
        },
      });
    });
  });
}

function serve(o: JuteListenerOptions, socket: NetSocket, frameMax: number, x509: string | null): void {
  const remote = socket.remoteAddress ?? 'unknown';
  const log = o.logger.child({ remote: `${remote}:${socket.remotePort ?? 0}`, listener: 'jute' });
  let conn: Conn | null = null;
  const held: Uint8Array[] = [];
  let releaseHeld = false;
  const codec = juteCodec({
    limits: { dataBytesMax: o.dataBytesMax, frameBytesMax: frameMax },
    authIds: () => conn?.authIds ?? [],
    closingReason: (code, reason) => log.info({ code, sessionId: conn ? '0x' + conn.sessionId.toString(16) : undefined }, `jute connection: ${reason}`),
    // After the answer has been written (this turn): the session lives on.
    closeAfterAnswer: (code, reason) => setImmediate(() => conn && o.core.kill(conn, code, reason)),
  });
  conn = o.core.open(
    {
      send(frame) {
        if (frame.byteLength === 0 || socket.destroyed) return;
        socket.write(frame);
        if (socket.writableLength > constants.socketBackpressureBytesMax) {
          log.warn('jute connection: client does not read its answers (backpressure bound): closed');
          socket.destroy();
        }
        if (held.length > 0 && !releaseHeld && conn?.state === 'open') {
          releaseHeld = true;
          setImmediate(deliverHeld);
        }
      },
      end() {
        socket.end();
        // A client that never closes its side must not keep the socket: destroy after a grace.
        setTimeout(() => socket.destroy(), constants.handshakeTimeoutMs).unref();
      },
      cork(fn) {
        socket.cork();
        try {
          fn();
        } finally {
          socket.uncork();
        }
      },
    },
    remote,
    codec,
    { x509, browser: false },
  );
  const c = conn;
  const deliverHeld = (): void => {
    releaseHeld = false;
    while (held.length > 0 && c.state === 'open') o.core.receive(c, held.shift()!, true);
  };
  if (!o.admit(remote)) {
    o.core.kill(c, 'THROTTLEDOP', `too many connections from ${remote} (maxClientCnxns)`);
    socket.destroy();
    return;
  }
  let pending: Buffer | null = null;
  let first = true;
  socket.on('data', (chunk: Buffer) => {
    let buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    let at = 0;
    while (c.state !== 'closed' && buf.length - at >= 4) {
      const len = buf.readInt32BE(at);
      const word = first ? fourLetterWordOf(len) : undefined;
      first = false;
      if (word !== undefined) {
        // A four-letter word instead of a ConnectRequest: answer it as text and close.
        socket.pause();
        o.core.closed(c);
        fourLetterAnswer(word, o.fourLetter).then(
          (text) => socket.end(text),
          (err: unknown) => {
            log.warn({ err: String(err) }, `four-letter word ${word} failed`);
            socket.destroy();
          },
        );
        return;
      }
      const max = c.state === 'handshake' ? constants.juteHandshakeBytesMax : frameMax;
      if (len < 0 || len > max) {
        o.core.malformed(c, `frame length ${len} outside [0, ${max}] (jute.maxbuffer): closed`);
        socket.destroy();
        return;
      }
      if (buf.length - at - 4 < len) break;
      const frame = buf.subarray(at + 4, at + 4 + len);
      at += 4 + len;
      if (c.state === 'attaching' || held.length > 0) {
        // Sent before the ConnectResponse (pipelining clients): served once the session is open,
        // and later frames queue behind them until they are (deliverHeld), keeping their order.
        if (c.state === 'attaching' && held.length >= heldFramesMax) {
          o.core.malformed(c, `more than ${heldFramesMax} requests before the session was established`);
          return;
        }
        held.push(Uint8Array.prototype.slice.call(frame));
        continue;
      }
      o.core.receive(c, frame, true);
    }
    if (at < buf.length && c.state !== 'closed') pending = Buffer.from(buf.subarray(at));
    buf = Buffer.alloc(0);
  });
  socket.on('error', (err) => log.debug({ err: err.message }, 'jute socket error'));
  socket.on('close', () => {
    o.release(remote);
    o.core.closed(c);
  });
}
