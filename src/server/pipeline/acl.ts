// ZooKeeper's ACL rules: validation and expansion of a new ACL (PrepRequestProcessor.fixupACL)
// and the permission check (ZooKeeperServer.checkACL) with the world, auth, digest, ip, x509 and
// super schemes (x509 ids come from verified TLS client certificates: workers/tls-front.ts).
// Shared by the pipeline (write checks) and the session workers (read checks).
// Pure functions: no I/O; node:crypto only for the SHA-1 of a digest credential.
import { createHash } from 'node:crypto';
import { constants } from '../../common/constants.js';
import type { ACL } from '../../common/types.js';
import type { AuthId } from './api.js';

/**
 * The id a digest credential authenticates as: 'user:' + base64(sha1('user:password')), as
 * DigestAuthenticationProvider.generateDigest ('u:p' -> 'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=').
 */
export function digestAuthId(credential: string): string {
  const colon = credential.indexOf(':');
  const user = colon < 0 ? credential : credential.slice(0, colon);
  return user + ':' + createHash('sha1').update(credential, 'utf8').digest('base64');
}

/**
 * Schemes whose ids an 'auth' ACL entry expands to (ServerAuthenticationProvider.isAuthenticated):
 * digest is; ip is not (every connection has an ip id, so 'auth' would mean "this address");
 * 'super' has no provider and is skipped, as in ZooKeeper.
 */
function isAuthenticatedScheme(scheme: string): boolean {
  return scheme !== 'ip' && scheme !== 'world' && scheme !== 'super';
}

/** Is `id` a valid id for an ACL entry of `scheme` (AuthenticationProvider.isValid)? */
function isValidId(scheme: string, id: string): boolean {
  switch (scheme) {
    case 'world':
      return id === 'anyone';
    case 'digest':
      return digestIdValid(id);
    case 'ip':
      return parseIpAcl(id) !== null;
    case 'x509':
      // X509AuthenticationProvider.isValid parses an X.500 name; any RFC 2253 DN has an '='.
      return id.includes('=');
    default:
      return false; // no provider for the scheme (ZooKeeper: INVALIDACL)
  }
}

// Java's id.split(":").length == 2: trailing empty parts are dropped, so 'u:' is invalid and ':x' valid.
function digestIdValid(id: string): boolean {
  const parts = id.split(':');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length === 2;
}

function validPerms(perms: unknown): boolean {
  // ZooKeeper stores any int (3.8.0 accepts perms 0 and 255, see ZK-FACTS.md); we refuse only
  // what is not a 32-bit integer, since JSON-ish input can carry NaN or fractions.
  return typeof perms === 'number' && Number.isInteger(perms) && perms >= -0x8000_0000 && perms <= 0x7fff_ffff;
}

function sameAcl(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.scheme === b.scheme && a.id === b.id;
}

/**
 * Validates a new ACL and expands 'auth' entries to the requester's authenticated ids, as
 * ZooKeeper's fixupACL: duplicates removed first, an empty list, an unknown scheme, an invalid
 * id, or an 'auth' entry when the requester has no authenticated id are INVALIDACL.
 * Returns the ACL to store, or null for INVALIDACL.
 */
export function validateAcl(acl: readonly ACL[], authIds: readonly AuthId[]): ACL[] | null {
  if (!Array.isArray(acl) || acl.length === 0 || acl.length > constants.aclEntriesMax) return null;
  const unique: ACL[] = [];
  for (const a of acl) {
    if (typeof a !== 'object' || a === null) return null;
    if (typeof a.scheme !== 'string' || typeof a.id !== 'string' || !validPerms(a.perms)) return null;
    if (!unique.some((u) => sameAcl(u, a))) unique.push(a);
  }
  const out: ACL[] = [];
  for (const a of unique) {
    if (a.scheme === 'auth') {
      let any = false;
      for (const id of authIds) {
        if (!isAuthenticatedScheme(id.scheme)) continue;
        any = true;
        out.push({ perms: a.perms, scheme: id.scheme, id: id.id });
      }
      if (!any) return null;
    } else {
      if (!isValidId(a.scheme, a.id)) return null;
      out.push({ perms: a.perms, scheme: a.scheme, id: a.id });
    }
  }
  // Expansion can add entries; the stored list keeps the same bound as the request.
  return out.length <= constants.aclEntriesMax ? out : null;
}

/**
 * May a requester with `authIds` do `perm` on a node with `acl`? (ZooKeeperServer.checkACL):
 * a 'super' id may do anything; an empty ACL allows everything; otherwise some entry granting
 * `perm` must match: world:anyone, or an id of the same scheme (ip by address/prefix).
 */
export function checkAcl(acl: readonly ACL[], perm: number, authIds: readonly AuthId[]): boolean {
  for (const id of authIds) if (id.scheme === 'super') return true;
  if (acl.length === 0) return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (a.scheme === 'world' && a.id === 'anyone') return true;
    for (const id of authIds) {
      if (id.scheme !== a.scheme) continue;
      if (a.scheme === 'ip' ? ipMatches(id.id, a.id) : id.id === a.id) return true;
    }
  }
  return false;
}

// ---- ip scheme ----

interface IpAcl {
  bytes: Uint8Array;
  bits: number;
}

/** 'a.b.c.d' or 'a.b.c.d/bits' (also IPv6, an extension over ZooKeeper 3.8.0 which is v4-only). */
function parseIpAcl(expr: string): IpAcl | null {
  const slash = expr.indexOf('/');
  const addr = slash < 0 ? expr : expr.slice(0, slash);
  const bytes = parseIp(addr);
  if (bytes === null) return null;
  let bits = bytes.length * 8;
  if (slash >= 0) {
    const b = expr.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(b)) return null;
    bits = Number(b);
    if (bits > bytes.length * 8) return null;
  }
  return { bytes, bits };
}

/** Does a client address match an ip ACL id ('10.0.0.0/8', '127.0.0.1')? (IPAuthenticationProvider.matches) */
export function ipMatches(clientIp: string, aclId: string): boolean {
  const acl = parseIpAcl(aclId);
  if (acl === null) return false;
  let client = parseIp(clientIp);
  if (client === null) return false;
  // An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) matches IPv4 ACLs.
  if (client.length === 16 && acl.bytes.length === 4 && isV4Mapped(client)) client = client.subarray(12);
  if (client.length !== acl.bytes.length) return false;
  for (let i = 0; i < client.length; i++) {
    const left = acl.bits - i * 8;
    if (left <= 0) break;
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if (((client[i]! ^ acl.bytes[i]!) & mask) !== 0) return false;
  }
  return true;
}

/** Whether `id` is a valid ip ACL id (address with an optional /prefix length). */
export function ipAclValid(id: string): boolean {
  return parseIpAcl(id) !== null;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

function parseIp(s: string): Uint8Array | null {
  return s.includes(':') ? parseIpv6(s) : parseIpv4(s);
}

function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIpv4(item);
        if (v4 === null) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}
