// The ensemble part of the server configuration: ZooKeeper's server list (`server.N=` lines of
// zoo.cfg, or `--servers`), this server's id (`--id` or the data dir's `myid` file) and the checks
// that make a bad or inconsistent list a clear ConfigError at start-up instead of a split brain
// later. Kept apart from config.ts so the flag plumbing and the ensemble rules each stay short.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface PeerAddress {
  id: number;
  host: string;
  /** Quorum traffic (votes travel here too: see DESIGN "Quorum"). */
  peerPort: number;
  /** Accepted for zoo.cfg compatibility; must differ from peerPort as in ZooKeeper. */
  electionPort: number;
  /** zoo.cfg `:observer`: replicates and serves, never votes. */
  observer: boolean;
  /** From `;[clientAddress:]clientPort`; absent when the entry has no client part. */
  clientPort?: number;
  /** Only when the client part names an address (ZooKeeper's default is 0.0.0.0). */
  clientHost?: string;
}

/** Server ids as ZooKeeper advises (myid "between 1 and 255"): the id is a session id's top byte. */
export const serverIdMax = 255;

const wrongFormat =
  'does not have the form host:peerPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]';

/** Java's String.split drops trailing empty strings; ZooKeeper's parsing relies on it. */
function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** ZooKeeper's ConfigUtils.getHostAndPort: `[v6::addr]:p:q` or `host:p:q`. */
function hostAndPort(s: string, what: string): string[] {
  if (!s.startsWith('[')) return javaSplit(s, ':');
  const close = s.indexOf(']');
  if (close < 0) throw new ConfigError(`${what}: ${s} starts with '[' but has no matching ']:'`);
  if (close + 2 === s.length) throw new ConfigError(`${what}: ${s} doesn't have a port after colon`);
  if (close + 2 < s.length) return [s.slice(1, close), ...javaSplit(s.slice(close + 2), ':')];
  return [s.slice(1, close)];
}

function port(text: string, host: string, what: string): number {
  const t = text.trim();
  // Integer.parseInt takes an optional sign; a port is 1..65535 either way.
  if (!/^[+]?\d{1,5}$/.test(t)) throw new ConfigError(`${what}: Address unresolved: ${host}:${text}`);
  const n = Number(t);
  if (n < 1 || n > 65535) throw new ConfigError(`${what}: port ${n} of ${host} is outside [1, 65535]`);
  return n;
}

/** Parses one server entry's value, as ZooKeeper 3.5+'s QuorumServer(sid, addressStr). */
export function parseServerValue(id: number, value: string, what: string): PeerAddress {
  const address = value.trim();
  const serverClient = javaSplit(address, ';');
  if (serverClient.length === 0 || serverClient.length > 2) throw new ConfigError(`${what}: ${address} ${wrongFormat}`);
  const serverPart = serverClient[0]!;
  if (serverPart.includes('|')) {
    throw new ConfigError(`${what}: several addresses per server (a|b, ZooKeeper's multiAddress) are not supported`);
  }
  const parts = hostAndPort(serverPart, what);
  if (parts.length < 3 || parts.length > 4 || parts[0] === '') throw new ConfigError(`${what}: ${address} ${wrongFormat}`);
  const host = parts[0]!;
  const peer: PeerAddress = {
    id,
    host,
    peerPort: port(parts[1]!, host, what),
    electionPort: port(parts[2]!, host, what),
    observer: false,
  };
  if (peer.peerPort === peer.electionPort) {
    throw new ConfigError(`${what}: peer and election port must be different (both ${peer.peerPort})`);
  }
  if (parts.length === 4) {
    const type = parts[3]!.trim().toLowerCase();
    if (type === 'observer') peer.observer = true;
    else if (type !== 'participant') throw new ConfigError(`${what}: Unrecognised peertype: ${parts[3]}`);
  }
  if (serverClient.length === 2) {
    const client = hostAndPort(serverClient[1]!, what);
    if (client.length === 0 || client.length > 2) throw new ConfigError(`${what}: ${address} ${wrongFormat}`);
    const clientHost = client.length === 2 ? client[0]! : '0.0.0.0';
    peer.clientPort = port(client[client.length - 1]!, clientHost, what);
    if (client.length === 2) peer.clientHost = clientHost;
  }
  return peer;
}

/** `--servers 1=host:peer:election[:observer][;clientPort],2=...` (the same entries as zoo.cfg). */
export function parseServersFlag(spec: string): PeerAddress[] {
  return spec
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((entry) => {
      const m = /^\s*(\d+)\s*=(.*)$/.exec(entry);
      if (!m) throw new ConfigError(`--servers: expected id=host:peerPort:electionPort[:observer][;clientPort], got ${JSON.stringify(entry)}`);
      const id = Number(m[1]);
      if (id > serverIdMax) throw new ConfigError(`--servers: server id ${id} is outside [0, ${serverIdMax}]`);
      return parseServerValue(id, m[2]!, `--servers ${id}`);
    });
}

/** The data dir's `myid` (ZooKeeper reads its first line); null when there is no such file. */
export function readMyId(dataDir: string): number | null {
  const path = join(dataDir, 'myid');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    // No file, or no data dir yet (or not a dir: the storage's start-up check names that one).
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const first = (text.split(/\r?\n/)[0] ?? '').trim();
  if (!/^\d+$/.test(first)) throw new ConfigError(`${path}: serverid ${JSON.stringify(first)} is not a number`);
  const id = Number(first);
  if (id > serverIdMax) throw new ConfigError(`${path}: server id ${id} is outside [0, ${serverIdMax}]`);
  return id;
}

/** 'localhost' and 127.0.0.1 are one address for the clash check; otherwise hosts compare as text. */
function normalHost(host: string): string {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' ? '127.0.0.1' : h;
}

/**
 * Two listeners on one host:port cannot both bind. A client part without an address (ZooKeeper's
 * 0.0.0.0) listens on the server's own host, so it is checked against that host's ports.
 */
function checkAddressClashes(servers: PeerAddress[]): void {
  const seen = new Map<string, string>();
  for (const s of servers) {
    const clientHost = s.clientHost === undefined || s.clientHost === '0.0.0.0' ? s.host : s.clientHost;
    const listeners: [string, number, string][] = [
      [s.host, s.peerPort, 'peer port'],
      [s.host, s.electionPort, 'election port'],
    ];
    if (s.clientPort !== undefined) listeners.push([clientHost, s.clientPort, 'client port']);
    for (const [host, p, what] of listeners) {
      const key = `${normalHost(host)}:${p}`;
      const owner = `server.${s.id} ${what}`;
      const other = seen.get(key);
      if (other !== undefined) throw new ConfigError(`${owner} and ${other} are both ${host}:${p}: every listener needs its own host:port`);
      seen.set(key, owner);
    }
  }
}

export interface EnsembleInput {
  servers: PeerAddress[];
  /** --id, or null when not given. */
  idFlag: number | null;
  dataDir: string;
  /** zoo.cfg peerType, or null. */
  peerType: 'observer' | 'participant' | null;
  /** This server's client listener as configured (null = not set explicitly). */
  clientPort: number | null;
}

export interface EnsembleResolved {
  serverId: number;
  observer: boolean;
  /** Taken from this server's own entry when clientPort/--port did not set it. */
  clientPort: number | null;
  clientHost: string | null;
  warnings: string[];
}

function checkIds(servers: PeerAddress[]): void {
  const ids = new Set<number>();
  for (const s of servers) {
    if (ids.has(s.id)) throw new ConfigError(`server id ${s.id} is listed twice: every server needs its own id`);
    ids.add(s.id);
  }
}

function resolveMyId(input: EnsembleInput): number | null {
  const fromFile = readMyId(input.dataDir);
  if (input.idFlag !== null && fromFile !== null && fromFile !== input.idFlag) {
    // The myid file names whose log and epochs the data dir holds: serving them under another id
    // would hand one server's history to another.
    throw new ConfigError(`--id ${input.idFlag} but ${join(input.dataDir, 'myid')} says ${fromFile}: the data dir belongs to another server`);
  }
  return input.idFlag ?? fromFile;
}

/** Applies ZooKeeper's start-up rules for a server list; throws ConfigError on any it breaks. */
export function resolveEnsemble(input: EnsembleInput): EnsembleResolved {
  const { servers } = input;
  const warnings: string[] = [];
  const myId = resolveMyId(input);
  // A server without a list runs standalone whatever peerType says (ZooKeeper reads it only in a quorum).
  const out: EnsembleResolved = { serverId: myId ?? 0, observer: false, clientPort: null, clientHost: null, warnings };
  if (servers.length === 0) return out;
  checkIds(servers);
  checkAddressClashes(servers);
  const voters = servers.filter((s) => !s.observer);
  if (voters.length === 0) throw new ConfigError(`every server in the list is an observer: an ensemble needs voters (participants)`);
  if (servers.length === 1) warnings.push('only one server is listed: it runs standalone (as ZooKeeper)');
  if (myId === null) {
    if (servers.length === 1) return out; // one entry and no id: standalone, as ZooKeeper
    throw new ConfigError(`${join(input.dataDir, 'myid')} file is missing: a server of an ensemble of ${servers.length} needs its id (write the myid file or pass --id N)`);
  }
  const mine = servers.find((s) => s.id === myId);
  if (mine === undefined) throw new ConfigError(`My id ${myId} not in the peer list (server ids: ${servers.map((s) => s.id).join(', ')})`);
  if (input.peerType !== null && (input.peerType === 'observer') !== mine.observer) {
    warnings.push(`peerType ${input.peerType} does not match server.${myId} in the server list: using the list (${mine.observer ? 'observer' : 'participant'})`);
  }
  out.observer = mine.observer;
  if (mine.clientPort !== undefined) {
    if (input.clientPort !== null && input.clientPort !== mine.clientPort) {
      throw new ConfigError(`the client port ${input.clientPort} differs from server.${myId}'s client port ${mine.clientPort} in the server list`);
    }
    out.clientPort = mine.clientPort;
    out.clientHost = mine.clientHost ?? null;
  }
  if (voters.length <= 2 && servers.length > 1) warnings.push(`${voters.length} voter(s): no server failure will be tolerated; you need at least 3 voters`);
  else if (voters.length % 2 === 0) warnings.push(`${voters.length} voters: an even count tolerates no more failures than ${voters.length - 1}; consider an odd number`);
  return out;
}
