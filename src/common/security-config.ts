// The client port's security settings: TLS (--tls-* flags, zoo.cfg secureClientPort / ssl.*),
// admin users (--admin-users) and allowed WebSocket origins (--allowed-origins). Parsed here into
// plain data; the files are read and checked at start-up by src/server/tls.ts and
// src/server/admin-users.ts (the composition root), so a bad file is a clear start-up error.
import { resolve } from 'node:path';
import { constants } from './constants.js';
import { ConfigError } from './ensemble-config.js';

/**
 * need: a client must present a certificate signed by the CA (ZooKeeper's default ssl.clientAuth);
 * want: it may, and one it presents must verify; none: certificates are not asked for.
 */
export type ClientAuth = 'need' | 'want' | 'none';

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  /** CA bundle (PEM) that client certificates must chain to; null = none asked for. */
  caFile: string | null;
  /** The private key's passphrase file (its first line), or the passphrase itself from zoo.cfg. */
  passphrase: string | null;
  passphraseFile: string | null;
  clientAuth: ClientAuth;
}

export interface SecurityConfig {
  /** TLS on the client port; null = plain (ws:// and http://). */
  tls: TlsConfig | null;
  /** --admin-users FILE: digest users allowed the admin pages and browser writes; null = no admin gate. */
  adminUsersFile: string | null;
  /** Origins (scheme://host[:port]) allowed besides the server's own; '*' = any (not advised). */
  allowedOrigins: string[];
}

/** Settings as written (flags and zoo.cfg keys), before finishTls() checks they fit together. */
export interface TlsDraft {
  certFile: string | null;
  keyFile: string | null;
  caFile: string | null;
  passphrase: string | null;
  passphraseFile: string | null;
  clientAuth: ClientAuth | null;
  /** zoo.cfg secureClientPort. */
  securePort: number | null;
}

export function emptyTlsDraft(): TlsDraft {
  return { certFile: null, keyFile: null, caFile: null, passphrase: null, passphraseFile: null, clientAuth: null, securePort: null };
}

export function clientAuthValue(v: string, what: string): ClientAuth {
  const t = v.trim().toLowerCase();
  if (t === 'need' || t === 'want' || t === 'none') return t;
  throw new ConfigError(`${what}: expected need, want or none, got ${JSON.stringify(v)}`);
}

/** Only PEM files are read (uWebSockets.js takes PEM file names); JKS / PKCS12 need converting. */
function pemOnly(v: string, what: string): void {
  if (v.trim().toUpperCase() !== 'PEM') {
    throw new ConfigError(`${what}=${v.trim()}: only PEM is supported; convert the store to PEM (e.g. openssl pkcs12 -in store.p12 -out store.pem -nodes) and set ${what}=PEM`);
  }
}

/**
 * zoo.cfg's ssl.* keys that map onto the TLS settings. ZooKeeper's PEM key store holds the
 * certificate chain and the private key in one file: it is both the cert and the key file here.
 * Keys of the quorum (ssl.quorum.*) and of ciphers/protocols are not mapped: reported as unknown.
 */
export const sslZooCfgKeys: Record<string, (d: TlsDraft, v: string, baseDir: string) => void> = {
  secureClientPort: (d, v) => {
    if (!/^\d+$/.test(v.trim()) || Number(v) > 65535) throw new ConfigError(`secureClientPort: expected a port, got ${JSON.stringify(v)}`);
    d.securePort = Number(v.trim());
  },
  'ssl.keyStore.location': (d, v, base) => {
    d.certFile = resolve(base, v.trim());
    d.keyFile = d.certFile;
  },
  'ssl.keyStore.password': (d, v) => (d.passphrase = v),
  'ssl.keyStore.passwordPath': (d, v, base) => (d.passphraseFile = resolve(base, v.trim())),
  'ssl.keyStore.type': (_d, v) => pemOnly(v, 'ssl.keyStore.type'),
  'ssl.trustStore.location': (d, v, base) => (d.caFile = resolve(base, v.trim())),
  'ssl.trustStore.type': (_d, v) => pemOnly(v, 'ssl.trustStore.type'),
  'ssl.trustStore.password': () => {}, // a PEM trust store has no password
  'ssl.clientAuth': (d, v) => (d.clientAuth = clientAuthValue(v, 'ssl.clientAuth')),
};

/** The TLS settings once every flag and key is in: null (plain) or a complete TlsConfig. */
export function finishTls(d: TlsDraft): TlsConfig | null {
  if (d.certFile === null && d.keyFile === null) {
    if (d.securePort !== null) throw new ConfigError('secureClientPort needs a certificate: set ssl.keyStore.location (PEM) or --tls-cert and --tls-key');
    if (d.caFile !== null) throw new ConfigError('--tls-ca needs --tls-cert and --tls-key (the server certificate)');
    return null;
  }
  if (d.certFile === null) throw new ConfigError('--tls-key needs --tls-cert');
  if (d.keyFile === null) throw new ConfigError('--tls-cert needs --tls-key');
  // ZooKeeper's default is need; a CA without a clientAuth setting therefore requires certificates.
  const clientAuth = d.caFile === null ? 'none' : (d.clientAuth ?? 'need');
  if (d.caFile === null && d.clientAuth !== null && d.clientAuth !== 'none') {
    throw new ConfigError(`client certificates (${d.clientAuth}) need a CA to verify them: set --tls-ca or ssl.trustStore.location`);
  }
  return { certFile: d.certFile, keyFile: d.keyFile, caFile: d.caFile, passphrase: d.passphrase, passphraseFile: d.passphraseFile, clientAuth };
}

/** --allowed-origins a,b: each scheme://host[:port] (no path), or '*'. */
export function allowedOriginsValue(v: string): string[] {
  const list = v.split(',').map((o) => o.trim()).filter((o) => o !== '');
  if (list.length > constants.allowedOriginsMax) throw new ConfigError(`--allowed-origins: at most ${constants.allowedOriginsMax} origins, got ${list.length}`);
  for (const o of list) {
    if (o === '*') continue;
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new ConfigError(`--allowed-origins: ${JSON.stringify(o)} is not an origin (scheme://host[:port])`);
    }
    if (url.origin === 'null' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || o.endsWith('/')) {
      throw new ConfigError(`--allowed-origins: ${JSON.stringify(o)} is not an origin: write scheme://host[:port] without a path (${url.origin})`);
    }
  }
  return list.map((o) => (o === '*' ? o : new URL(o).origin));
}
