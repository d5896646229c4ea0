// Real certificates for TLS tests, made by the openssl command into a temp dir: a CA, server
// certificates for 127.0.0.1/localhost, client certificates with chosen subjects.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const hasOpenssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;

export interface CertFiles {
  crt: string;
  key: string;
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A self-signed CA. */
export function makeCa(dir: string, name: string): CertFiles {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-subj', `/CN=${name}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { crt, key };
}

/** A certificate signed by `ca`; server certificates name 127.0.0.1 and localhost. */
export function makeCert(dir: string, name: string, subject: string, ca: CertFiles, kind: 'server' | 'client'): CertFiles {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subject]);
  writeFileSync(ext, kind === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
  openssl(['x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-set_serial', String(Date.now()), '-days', '2', '-out', crt, '-extfile', ext]);
  return { crt, key };
}

/** The subject as RFC 2253 text, by openssl itself: the x509 id a server should assign. */
export function subjectRfc2253(crt: string): string {
  return openssl(['x509', '-in', crt, '-noout', '-subject', '-nameopt', 'RFC2253']).trim().replace(/^subject=/, '');
}

/** The certificate's SHA-256 fingerprint as node:tls prints it (AA:BB:...). */
export function fingerprint256(crt: string): string {
  return openssl(['x509', '-in', crt, '-noout', '-fingerprint', '-sha256']).trim().replace(/^.*=/, '').toUpperCase();
}
