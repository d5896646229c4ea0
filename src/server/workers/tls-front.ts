// The TLS front: used when client certificates are asked for (--tls-ca, ssl.clientAuth need or
// want). uWebSockets.js 20.30 verifies a certificate a client presents against ca_file_name but
// neither requires one nor hands it to JavaScript (its HttpResponse has no certificate getter),
// so it cannot give the x509 ACL scheme its id. In this mode worker 0 terminates TLS with
// node:tls on the client port, reads the verified certificate's subject, and hands the
// decrypted stream to one worker's uWS App (round robin) on that worker's private Unix socket,
// adding one header to the first request: the client's address and subject, behind a
// per-process secret (security.ts). Every other byte passes through unchanged, so WebSockets,
// the HTTP pages and the console work as on the plain port.
//
// Cost: every byte of every client crosses worker 0's JS loop twice (decrypt, pipe); the
// server-only TLS mode (no client certificates) keeps uWS's native TLS on every worker.
// Certificates are replaced with setSecureContext (SIGHUP): connections already up keep theirs.
import { connect as netConnect, type Socket } from 'node:net';
import { createServer, type SecureContextOptions, type Server, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { constants } from '../../common/constants.js';
import type { ClientAuth } from '../../common/security-config.js';
import { frontHeaderName, frontHeaderValue } from './security.js';
import { subjectDn } from './x509-name.js';

export interface TlsFrontOptions {
  host: string;
  port: number;
  secure: SecureContextOptions;
  clientAuth: ClientAuth;
  /** The workers' Unix socket paths (uWS App.listen_unix). */
  targets: string[];
  secret: string;
  logger: Logger;
}

export interface TlsFront {
  reload(secure: SecureContextOptions): void;
  close(): void;
}

export function startTlsFront(o: TlsFrontOptions): Promise<TlsFront> {
  const sockets = new Set<Socket>();
  let next = 0;
  const server: Server = createServer({
    ...o.secure,
    requestCert: o.clientAuth !== 'none',
    rejectUnauthorized: o.clientAuth === 'need',
  });
  server.on('secureConnection', (client: TLSSocket) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const x509 = verifiedSubject(client, o.clientAuth, o.logger);
    if (x509 === undefined) return void client.destroy();
    const target = o.targets[next++ % o.targets.length]!;
    forward(client, target, { remote: client.remoteAddress ?? '', x509 }, o, sockets);
  });
  // A failed handshake (no or a bad certificate, plain HTTP on the TLS port) ends that socket only.
  server.on('tlsClientError', (err, socket) => {
    o.logger.debug({ err: err.message }, 'TLS handshake refused');
    socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve({
        reload: (secure) => server.setSecureContext(secure),
        close: () => {
          server.close();
          for (const s of sockets) s.destroy();
          sockets.clear();
        },
      });
    });
  });
}

/** The subject DN of a verified client certificate; null without one; undefined = refuse (also used by the jute listener). */
export function verifiedSubject(client: TLSSocket, clientAuth: ClientAuth, logger: Logger): string | null | undefined {
  const cert = client.getPeerX509Certificate();
  if (cert === undefined) return clientAuth === 'need' ? undefined : null;
  // 'want' lets a client without a certificate in; one with a certificate that does not verify is refused.
  if (!client.authorized) return undefined;
  try {
    const dn = subjectDn(cert);
    if (Buffer.byteLength(dn) > constants.aclIdBytesMax) {
      logger.warn({ bytes: Buffer.byteLength(dn) }, `client certificate subject longer than ${constants.aclIdBytesMax} bytes (the ACL id bound): refused`);
      return undefined;
    }
    return dn;
  } catch (err) {
    logger.error({ err }, 'cannot read the subject of a verified client certificate: connection refused');
    return undefined;
  }
}

/**
 * Reads the first request head, rewrites it with the front header (any such header the client
 * sent is dropped), connects to the worker and pipes both ways.
 */
function forward(client: TLSSocket, target: string, peer: { remote: string; x509: string | null }, o: TlsFrontOptions, sockets: Set<Socket>): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > constants.httpHeadBytesMax) client.end('HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\r\n');
      return;
    }
    client.off('data', onData);
    client.pause();
    const lines = head.subarray(0, end).toString('latin1').split('\r\n');
    const kept = lines.filter((l, i) => i === 0 || !l.toLowerCase().startsWith(frontHeaderName + ':'));
    kept.splice(1, 0, `${frontHeaderName}: ${frontHeaderValue(o.secret, peer)}`);
    const rest = head.subarray(end + 4);
    const upstream = netConnect(target);
    sockets.add(upstream);
    upstream.once('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.on('error', (err) => {
      o.logger.warn({ err: err.message, target }, 'TLS front: worker socket failed');
      upstream.destroy();
    });
    upstream.setTimeout(constants.tlsFrontConnectTimeoutMs, () => upstream.destroy());
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      upstream.write(Buffer.concat([Buffer.from(kept.join('\r\n') + '\r\n\r\n', 'latin1'), rest]));
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  };
  client.on('data', onData);
}
