// zkCli's ACL text: "scheme:id:perms[,scheme:id:perms...]", perms as letters c d r w a.
// The id may itself contain ':' (digest "user:base64hash", IPv6), so the scheme ends at the first
// ':' and the perms start after the last one.
import type { ACL } from '../common/types.js';
import { Perms } from '../common/types.js';

const letters: readonly [string, number][] = [
  ['c', Perms.CREATE],
  ['d', Perms.DELETE],
  ['r', Perms.READ],
  ['w', Perms.WRITE],
  ['a', Perms.ADMIN],
];

export class AclTextError extends Error {
  override name = 'AclTextError';
}

export function parsePerms(text: string): number {
  let perms = 0;
  for (const ch of text) {
    const entry = letters.find(([l]) => l === ch.toLowerCase());
    if (entry === undefined) throw new AclTextError(`unknown permission ${JSON.stringify(ch)} (use c d r w a)`);
    perms |= entry[1];
  }
  return perms;
}

export function formatPerms(perms: number): string {
  let out = '';
  for (const [l, bit] of letters) if (perms & bit) out += l;
  return out;
}

export function parseAclText(text: string): ACL[] {
  const out: ACL[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const first = entry.indexOf(':');
    const last = entry.lastIndexOf(':');
    if (first <= 0 || last === first) throw new AclTextError(`bad ACL entry ${JSON.stringify(entry)}: expected scheme:id:perms`);
    out.push({ scheme: entry.slice(0, first), id: entry.slice(first + 1, last), perms: parsePerms(entry.slice(last + 1)) });
  }
  if (out.length === 0) throw new AclTextError('empty ACL');
  return out;
}

/** As zkCli's getAcl prints it: 'scheme,'id then ": perms". */
export function formatAcl(acl: readonly ACL[]): string {
  return acl.map((a) => `'${a.scheme},'${a.id}\n: ${formatPerms(a.perms)}`).join('\n');
}
