// The client port's gates, as pure functions of request headers and settings, used by the
// worker's uWS handlers (worker.ts):
//   - origin check on the WebSocket upgrade: a browser always sends Origin; a page from another
//     site must not reach this server through the user's browser (a WebSocket is not subject to
//     the same-origin policy). Node clients send no Origin and are let through.
//   - CORS headers on the HTTP pages for allowed origins only.
//   - HTTP Basic auth of an admin user for the admin pages (--admin-users).
//   - the write gate: with --admin-users, a browser session may write only as an admin user.
//   - the TLS front's header (tls-front.ts): the client's address and certificate subject,
//     trusted only with the per-process secret.
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { digestAuthId } from '../pipeline/acl.js';
import type { WriteOp } from '../pipeline/api.js';
import type { Conn } from './conn.js';

export interface OriginPolicy {
  /** The scheme pages of this server are served with: 'https' with TLS, else 'http'. */
  scheme: 'http' | 'https';
  /** Host names that are this server's own (its --host, localhost, the machine's name). */
  ownHosts: ReadonlySet<string>;
  /** --allowed-origins, normalised (URL.origin); '*' allows any. */
  allowed: ReadonlySet<string>;
}

/**
 * May a request with this Origin header (empty = none: not a browser) talk to the server, given
 * the Host header it was sent with? Allowed: no Origin; a listed origin; or the server's own
 * origin — the origin names exactly the Host the browser connected to, with this server's
 * scheme, and that host is an IP literal or one of ownHosts. The last condition stops DNS
 * rebinding: a page of evil.example whose name now points to 127.0.0.1 has Origin and Host
 * equal, but evil.example is not one of this server's names.
 */
export function originAllowed(origin: string, hostHeader: string, policy: OriginPolicy): boolean {
  if (origin === '') return true;
  if (policy.allowed.has('*')) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // 'null' (sandboxed iframes, file: pages) and garbage
  }
  if (policy.allowed.has(url.origin)) return true;
  if (url.protocol !== `${policy.scheme}:`) return false;
  if (url.host !== hostHeader.toLowerCase()) return false;
  const name = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(name) !== 0 || policy.ownHosts.has(name);
}

/** CORS response headers for an allowed, non-empty Origin (none otherwise: the browser then keeps the answer from the page). */
export function corsHeaders(origin: string, hostHeader: string, policy: OriginPolicy): [string, string][] {
  if (origin === '' || !originAllowed(origin, hostHeader, policy)) return [];
  return [
    ['access-control-allow-origin', origin],
    ['access-control-allow-credentials', 'true'],
    ['access-control-allow-headers', 'authorization'],
    ['access-control-allow-methods', 'GET, OPTIONS'],
    ['vary', 'Origin'],
  ];
}

/**
 * Is this Authorization header HTTP Basic auth of an admin user? adminIds holds digest ids
 * ('user:' + base64(sha1('user:password')), the file's lines); null = no admin gate, all pass.
 * The password is hashed before the lookup, so the comparison is of SHA-1 digests.
 */
export function adminAuthorized(authorization: string, adminIds: ReadonlySet<string> | null): boolean {
  if (adminIds === null) return true;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (m === null) return false;
  const credential = Buffer.from(m[1]!, 'base64').toString('utf8');
  if (!credential.includes(':')) return false;
  return adminIds.has(digestAuthId(credential));
}

/** Is this connection an admin: did it addAuth('digest', 'user:password') for a listed user? */
export function isAdmin(conn: Conn, adminIds: ReadonlySet<string>): boolean {
  return conn.authIds.some((a) => a.scheme === 'digest' && adminIds.has(a.id));
}

/**
 * With --admin-users, a browser session (its upgrade carried an Origin) changes nothing unless it
 * is an admin: the console is read-only without admin credentials. Sessions of other clients are
 * not affected, and ACLs apply to everyone as usual. Returns the NOAUTH message, or null.
 */
export function browserWriteRefusal(conn: Conn, op: WriteOp, adminIds: ReadonlySet<string> | null): string | null {
  if (adminIds === null || !conn.browser) return null;
  if (op.type === 'sync' || op.type === 'getEphemerals' || op.type === 'closeSession') return null;
  if (op.type === 'multi' && op.ops.every((o) => o.type === 'check')) return null;
  if (isAdmin(conn, adminIds)) return null;
  return 'read-only: a browser session writes only as an admin user (addAuth digest user:password of --admin-users)';
}

// ---- the TLS front's header ----

export const frontHeaderName = 'x-zookooper-front';

export interface FrontPeer {
  remote: string;
  /** The client certificate's subject DN (RFC 2253), when it presented one that verified. */
  x509: string | null;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
const unb64 = (s: string): string => Buffer.from(s, 'base64url').toString('utf8');

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function frontHeaderValue(secret: string, peer: FrontPeer): string {
  return `${secret}.${b64(peer.remote)}.${peer.x509 === null ? '-' : b64(peer.x509)}`;
}

/** The peer the TLS front vouches for, or null when the header is missing or not the front's. */
export function parseFrontHeader(value: string, secret: string): FrontPeer | null {
  const parts = value.split('.');
  if (parts.length !== 3 || !sameSecret(parts[0]!, secret)) return null;
  return { remote: unb64(parts[1]!), x509: parts[2] === '-' ? null : unb64(parts[2]!) };
}
