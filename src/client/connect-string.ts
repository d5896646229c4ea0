// Parsing of ZooKeeper connect strings: "host:port[,host:port...][/chroot]".
import { constants } from '../common/constants.js';
import { ZookooperError } from '../common/errors.js';
import { pathProblem } from '../common/paths.js';

export interface HostPort {
  host: string; // IPv6 literals without brackets
  port: number;
}

export interface ConnectString {
  hosts: HostPort[];
  /** The chroot prefix without trailing slash, or '' for none. */
  chroot: string;
}

const hostsMax = 256; // more servers than any ensemble has: a typo guard, not a real limit

function bad(input: string, why: string): never {
  throw new ZookooperError('BADARGUMENTS', `invalid connect string ${JSON.stringify(input)}: ${why}`);
}

export function parseConnectString(input: string): ConnectString {
  if (typeof input !== 'string' || input.trim() === '') bad(String(input), 'empty');
  const s = input.trim();
  // The chroot starts at the first '/' (hosts never contain one).
  const slash = s.indexOf('/');
  const hostPart = slash < 0 ? s : s.slice(0, slash);
  let chroot = slash < 0 ? '' : s.slice(slash);
  if (chroot === '/') chroot = '';
  if (chroot !== '') {
    const problem = pathProblem(chroot);
    if (problem !== null) bad(input, `chroot ${problem}`);
  }
  const hosts: HostPort[] = [];
  for (const raw of hostPart.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    hosts.push(parseHostPort(item, input));
  }
  if (hosts.length === 0) bad(input, 'no host');
  if (hosts.length > hostsMax) bad(input, `more than ${hostsMax} hosts`);
  return { hosts, chroot };
}

function parseHostPort(item: string, input: string): HostPort {
  let host: string;
  let portText: string | undefined;
  if (item.startsWith('[')) {
    const end = item.indexOf(']');
    if (end < 0) bad(input, `unclosed '[' in ${item}`);
    host = item.slice(1, end);
    const rest = item.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) bad(input, `unexpected ${JSON.stringify(rest)} after ${host}`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = item.lastIndexOf(':');
    if (colon >= 0 && item.indexOf(':') !== colon) {
      host = item; // a bare IPv6 literal: no port
    } else {
      host = colon < 0 ? item : item.slice(0, colon);
      portText = colon < 0 ? undefined : item.slice(colon + 1);
    }
  }
  if (host === '') bad(input, `empty host in ${JSON.stringify(item)}`);
  let port: number = constants.clientPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) bad(input, `bad port ${JSON.stringify(portText)}`);
    port = Number(portText);
    if (port < 1 || port > 65535) bad(input, `port ${port} out of range`);
  }
  return { host, port };
}

/** ws URL of a host (wss with TLS): brackets around IPv6 literals. */
export function hostUrl(h: HostPort, tls = false): string {
  const host = h.host.includes(':') ? `[${h.host}]` : h.host;
  return `${tls ? 'wss' : 'ws'}://${host}:${h.port}/`;
}
