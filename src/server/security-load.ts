// Reads and checks the client port's security files on the main thread: at start-up (a bad file
// is a clear start-up error) and again on SIGHUP (a bad file is logged and the settings in use
// stay). What the workers need goes to them as plain data (WorkerSecurity).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError, type ServerConfig, type TlsConfig } from '../common/config.js';
import { constants } from '../common/constants.js';
import type { FrontSecure, WorkerSecurity } from './workers/messages.js';

function readBounded(file: string, what: string, maxBytes: number): Buffer {
  let size: number;
  let data: Buffer;
  try {
    size = statSync(file).size;
    if (size > maxBytes) throw new ConfigError(`${what} ${file} is ${size} bytes, more than ${maxBytes}`);
    data = readFileSync(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  return data;
}

/** The PEM texts, checked with node:tls: the files exist, parse, and the key is the certificate's. */
export function loadTlsFiles(tls: TlsConfig): FrontSecure {
  const cert = readBounded(tls.certFile, 'the TLS certificate file', constants.tlsFileBytesMax).toString('utf8');
  const key = readBounded(tls.keyFile, 'the TLS key file', constants.tlsFileBytesMax).toString('utf8');
  const ca = tls.caFile === null ? null : readBounded(tls.caFile, 'the TLS CA file', constants.tlsFileBytesMax).toString('utf8');
  let passphrase = tls.passphrase;
  if (tls.passphraseFile !== null) {
    passphrase = readBounded(tls.passphraseFile, 'the TLS key password file', constants.tlsFileBytesMax).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`the TLS certificate file ${tls.certFile} holds no PEM certificate`);
  if (ca !== null && !ca.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`the TLS CA file ${tls.caFile} holds no PEM certificate`);
  try {
    createSecureContext({ cert, key, ...(ca !== null ? { ca } : {}), ...(passphrase !== null ? { passphrase } : {}) });
  } catch (err) {
    const msg = (err as Error).message;
    if (/key values mismatch/i.test(msg)) throw new ConfigError(`the TLS key in ${tls.keyFile} does not match the certificate in ${tls.certFile}`);
    if (/bad decrypt|bad password/i.test(msg)) throw new ConfigError(`cannot decrypt the TLS key in ${tls.keyFile}: wrong or missing password (--tls-key-password-file, ssl.keyStore.password)`);
    throw new ConfigError(`cannot use the TLS files (certificate ${tls.certFile}, key ${tls.keyFile}${ca !== null ? `, CA ${tls.caFile}` : ''}): ${msg}`);
  }
  return { cert, key, ca, passphrase };
}

/**
 * --admin-users FILE: one `user:digest` a line, digest = base64(sha1('user:password')) as ZooKeeper's
 * DigestAuthenticationProvider makes it (`printf %s user:password | openssl sha1 -binary | base64`);
 * `#` comments and blank lines skipped. No plain passwords are kept on disk or in memory.
 */
export function loadAdminUsers(file: string): string[] {
  const text = readBounded(file, 'the admin users file', constants.adminUsersFileBytesMax).toString('utf8');
  const ids: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([^:\s]+):([A-Za-z0-9+/]{27}=)$/.exec(line);
    if (m === null) {
      throw new ConfigError(`${file} line ${i + 1}: expected user:digest with digest = base64(sha1(user:password)), e.g. from \`printf %s 'user:password' | openssl sha1 -binary | base64\``);
    }
    ids.push(line);
  }
  if (ids.length > constants.adminUsersMax) throw new ConfigError(`${file}: at most ${constants.adminUsersMax} admin users, got ${ids.length}`);
  return ids;
}

/** What the workers get at start: the listening mode and its files, the gates' settings. */
export interface SecurityPlan {
  /** The settings of worker `id`. */
  forWorker(id: number): WorkerSecurity;
  /** Re-reads the files (SIGHUP): the new worker settings, or a ConfigError (nothing changes then). */
  reload(): { tls: FrontSecure | null; adminIds: string[] | null };
  /** Removes the front's socket directory. */
  dispose(): void;
}

export function planSecurity(config: ServerConfig, port: number): SecurityPlan {
  const tls = config.tls;
  const files = tls === null ? null : loadTlsFiles(tls);
  let adminIds = config.adminUsersFile === null ? null : loadAdminUsers(config.adminUsersFile);
  const front = tls !== null && tls.clientAuth !== 'none';
  // The workers' Unix sockets live in a fresh 0700 directory: only this user can reach them.
  const socketDir = front ? mkdtempSync(join(tmpdir(), 'zookooper-front-')) : null;
  const targets = socketDir === null ? [] : Array.from({ length: config.workers }, (_, i) => join(socketDir, `w${i}.sock`));
  const secret = front ? randomBytes(24).toString('base64url') : null;
  const ownHosts = ['localhost', hostname().toLowerCase()];
  if (config.host !== '0.0.0.0' && config.host !== '::') ownHosts.push(config.host.toLowerCase());
  return {
    forWorker: (id) => ({
      mode: tls === null ? 'plain' : front ? 'front' : 'uws-tls',
      uwsTls: tls === null || front ? null : { certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile, passphrase: files!.passphrase },
      front: front && id === 0 ? { secure: files!, clientAuth: tls!.clientAuth, targets } : null,
      unixPath: targets[id] ?? null,
      jute: tls !== null && id === 0 ? { secure: files!, clientAuth: tls.clientAuth } : null,
      frontSecret: secret,
      adminIds,
      origins: { scheme: tls === null ? 'http' : 'https', ownHosts, allowed: config.allowedOrigins },
    }),
    reload: () => {
      const reread = tls === null ? null : loadTlsFiles(tls);
      const ids = config.adminUsersFile === null ? null : loadAdminUsers(config.adminUsersFile);
      adminIds = ids;
      return { tls: reread, adminIds: ids };
    },
    dispose: () => {
      if (socketDir !== null) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
