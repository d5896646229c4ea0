// Server configuration: command-line flags and ZooKeeper's zoo.cfg keys, merged into one typed
// ServerConfig. Flags win over the file. Unknown zoo.cfg keys are reported (returned in
// `unknownKeys` and logged by the server), never silently dropped.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve, dirname } from 'node:path';
import { constants } from './constants.js';
import { ConfigError, parseServersFlag, parseServerValue, resolveEnsemble, serverIdMax, type PeerAddress } from './ensemble-config.js';
import { allowedOriginsValue, clientAuthValue, emptyTlsDraft, finishTls, sslZooCfgKeys, type SecurityConfig, type TlsDraft } from './security-config.js';

export { ConfigError, type PeerAddress } from './ensemble-config.js';
export type { SecurityConfig, TlsConfig, ClientAuth } from './security-config.js';

export interface ServerConfig extends SecurityConfig {
  host: string;
  port: number; // 0 = pick a free port
  /**
   * The jute (ZooKeeper wire protocol) port: --zk-port / zoo.cfg zkClientPort; 0 = pick a free
   * one, null = no jute listener, -1 until finish() derives it (client port + zkPortOffset).
   */
  zkPort: number | null;
  /** zkPort is the derived default (not asked for): a busy port is then logged, not fatal. */
  zkPortDefaulted: boolean;
  /** Four-letter words answered on the jute port (4lw.commands.whitelist; '*' = all). */
  fourLetterWords: string[];
  dataDir: string;
  dataLogDir: string;
  workers: number;
  tickMs: number;
  initLimitTicks: number;
  syncLimitTicks: number;
  sessionTimeoutMsMin: number;
  sessionTimeoutMsMax: number;
  connectionsPerAddressMax: number; // 0 = unlimited (as ZooKeeper's maxClientCnxns)
  dataBytesMax: number;
  snapshotEveryTxns: number;
  snapRetainCount: number;
  purgeIntervalHours: number;
  /** The purge period actually used: purgeIntervalHours in ms, or --purge-interval-ms. 0 = off. */
  purgeIntervalMs: number;
  logLevel: string;
  allowUwsFallback: boolean;
  /** Walk and check every structure of the loaded snapshot image at start-up (~0.5 s per million znodes). */
  verifySnapshot: boolean;
  /** This server's id: --id, else the data dir's myid file; 0 standalone without either. */
  serverId: number;
  /** The whole server list (this server included), in the order given; empty = standalone. */
  servers: PeerAddress[];
  /** This server is an observer (from the server list; false without one). */
  observer: boolean;
  /** zoo.cfg peerType as written (the server list wins over it, with a warning, as ZooKeeper). */
  peerType: 'observer' | 'participant' | null;
  /**
   * Failover times in ms; the wiring turns them into core ticks. syncLimitMs / initLimitMs default
   * to syncLimit / initLimit ticks of tickTime (ZooKeeper's meaning); electionTimeoutMs to
   * 2 x tickTime, capped at constants.electionTimeoutMsDefaultMax.
   */
  electionTimeoutMs: number;
  syncLimitMs: number;
  initLimitMs: number;
  unknownKeys: string[];
  /** Log-worthy but valid (an even voter count, a single server, peerType against the list). */
  warnings: string[];
}

/** Voting members' ids (participants), in list order. */
export function voterIds(config: ServerConfig): number[] {
  return config.servers.filter((s) => !s.observer).map((s) => s.id);
}

/** Observers' ids, in list order. */
export function observerIds(config: ServerConfig): number[] {
  return config.servers.filter((s) => s.observer).map((s) => s.id);
}

/** More than one server listed: run the replicated ensemble (Zab); otherwise standalone. */
export function isEnsemble(config: ServerConfig): boolean {
  return config.servers.length > 1;
}

/**
 * The Zab core's timeouts in its own ticks (one every `quorumTickMs`), from the ms settings:
 * rounded up, at least one tick, so a timeout is never shorter than configured.
 */
export function zabTimeoutTicks(config: ServerConfig, quorumTickMs: number): { electionTimeoutTicks: number; initLimitTicks: number; syncLimitTicks: number } {
  const ticks = (ms: number): number => Math.max(1, Math.ceil(ms / quorumTickMs));
  return { electionTimeoutTicks: ticks(config.electionTimeoutMs), initLimitTicks: ticks(config.initLimitMs), syncLimitTicks: ticks(config.syncLimitMs) };
}

/** TLS settings as written, until finish() turns them into config.tls. */
const tlsDrafts = new WeakMap<ServerConfig, TlsDraft>();
function tlsDraft(config: ServerConfig): TlsDraft {
  let d = tlsDrafts.get(config);
  if (d === undefined) tlsDrafts.set(config, (d = emptyTlsDraft()));
  return d;
}

/** What was set explicitly (file or flag), for the rules that compare it with the server list. */
const explicit = new WeakMap<ServerConfig, Set<'port' | 'host' | 'id' | 'portFlag' | 'clientPortKey'>>();
function mark(config: ServerConfig, what: 'port' | 'host' | 'id' | 'portFlag' | 'clientPortKey'): void {
  let set = explicit.get(config);
  if (set === undefined) explicit.set(config, (set = new Set()));
  set.add(what);
}
function isSet(config: ServerConfig, what: 'port' | 'host' | 'id' | 'portFlag' | 'clientPortKey'): boolean {
  return explicit.get(config)?.has(what) === true;
}

export function defaultConfig(): ServerConfig {
  return {
    host: '127.0.0.1',
    port: constants.clientPort,
    zkPort: -1,
    zkPortDefaulted: false,
    fourLetterWords: ['srvr'], // ZooKeeper's default whitelist since 3.5.3
    dataDir: resolve('data'),
    dataLogDir: '',
    workers: Math.max(1, availableParallelism() - 1),
    tickMs: constants.tickMs,
    initLimitTicks: 10,
    syncLimitTicks: 5,
    sessionTimeoutMsMin: 0, // 0 = 2 x tick (resolved in finish())
    sessionTimeoutMsMax: 0, // 0 = 20 x tick
    connectionsPerAddressMax: constants.connectionsPerAddressMax,
    dataBytesMax: constants.dataBytesMax,
    snapshotEveryTxns: constants.snapshotEveryTxns,
    snapRetainCount: constants.snapRetainCount,
    purgeIntervalHours: constants.purgeIntervalHours,
    purgeIntervalMs: -1, // -1 = derive from purgeIntervalHours in finish()
    logLevel: 'info',
    allowUwsFallback: false,
    verifySnapshot: false,
    serverId: 0,
    servers: [],
    observer: false,
    peerType: null,
    electionTimeoutMs: -1, // -1 = derive in finish()
    syncLimitMs: -1,
    initLimitMs: -1,
    unknownKeys: [],
    warnings: [],
    tls: null,
    adminUsersFile: null,
    allowedOrigins: [],
  };
}

function int(value: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(value.trim())) throw new ConfigError(`${what}: expected an integer, got ${JSON.stringify(value)}`);
  const n = Number(value.trim());
  if (n < min || n > max) throw new ConfigError(`${what}: ${n} is outside [${min}, ${max}]`);
  return n;
}

/** ZooKeeper's zoo.cfg keys we understand; the value is applied to the config. */
const zooCfgKeys: Record<string, (c: ServerConfig, v: string, baseDir: string) => void> = {
  tickTime: (c, v) => (c.tickMs = int(v, 'tickTime', 1)),
  initLimit: (c, v) => (c.initLimitTicks = int(v, 'initLimit', 0)), // 0 is refused in finish() with a clear message
  syncLimit: (c, v) => (c.syncLimitTicks = int(v, 'syncLimit', 0)),
  dataDir: (c, v, base) => (c.dataDir = resolve(base, v.trim())),
  dataLogDir: (c, v, base) => (c.dataLogDir = resolve(base, v.trim())),
  clientPort: (c, v) => {
    c.port = int(v, 'clientPort', 0, 65535);
    mark(c, 'port');
    mark(c, 'clientPortKey');
  },
  zkClientPort: (c, v) => (c.zkPort = zkPortValue(v, 'zkClientPort')),
  '4lw.commands.whitelist': (c, v) => (c.fourLetterWords = fourLetterList(v)),
  clientPortAddress: (c, v) => {
    c.host = v.trim();
    mark(c, 'host');
  },
  peerType: (c, v) => {
    const t = v.trim().toLowerCase();
    if (t !== 'observer' && t !== 'participant') throw new ConfigError(`zoo.cfg: Unrecognised peertype: ${v}`);
    c.peerType = t;
  },
  maxClientCnxns: (c, v) => (c.connectionsPerAddressMax = int(v, 'maxClientCnxns', 0)),
  minSessionTimeout: (c, v) => (c.sessionTimeoutMsMin = int(v, 'minSessionTimeout', 1)),
  maxSessionTimeout: (c, v) => (c.sessionTimeoutMsMax = int(v, 'maxSessionTimeout', 1)),
  'autopurge.snapRetainCount': (c, v) => (c.snapRetainCount = Math.max(3, int(v, 'autopurge.snapRetainCount', 1))),
  'autopurge.purgeInterval': (c, v) => (c.purgeIntervalHours = int(v, 'autopurge.purgeInterval', 0)),
  snapCount: (c, v) => (c.snapshotEveryTxns = int(v, 'snapCount', 2)),
  'jute.maxbuffer': (c, v) => (c.dataBytesMax = int(v, 'jute.maxbuffer', 1)),
};

/** Parses zoo.cfg text (Java properties: key=value, # or ! comments). */
export function applyZooCfg(config: ServerConfig, text: string, baseDir: string): void {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.search(/[=:]/);
    if (eq <= 0) throw new ConfigError(`zoo.cfg: cannot parse line ${JSON.stringify(raw)}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key.startsWith('server.')) {
      const id = key.slice('server.'.length);
      if (!/^\d+$/.test(id)) throw new ConfigError(`zoo.cfg: ${key}: the server id must be a number`);
      if (Number(id) > serverIdMax) throw new ConfigError(`zoo.cfg: ${key}: server id ${id} is outside [0, ${serverIdMax}]`);
      config.servers.push(parseServerValue(Number(id), value, `zoo.cfg ${key}`));
      continue;
    }
    const apply = zooCfgKeys[key];
    const applySsl = sslZooCfgKeys[key];
    if (apply) apply(config, value, baseDir);
    else if (applySsl) applySsl(tlsDraft(config), value, baseDir);
    else config.unknownKeys.push(key);
  }
}

/** 4lw.commands.whitelist: words separated by commas (and spaces); `*` = every word. */
function fourLetterList(v: string): string[] {
  return v.split(/[,\s]+/).map((w) => w.trim()).filter((w) => w !== '');
}

/** A jute port setting: a port (0 = any free) or `off`. */
function zkPortValue(v: string, what: string): number | null {
  return v.trim() === 'off' ? null : int(v, what, 0, 65535);
}

const flagHelp = `zookooper server [--config zoo.cfg] [--host 127.0.0.1] [--port 2181] [--zk-port 3181|0|off] [--4lw-whitelist srvr,ruok|*] [--data-dir ./data]
                 [--data-log-dir DIR] [--workers N] [--tick-ms 2000] [--log-level info]
                 [--min-session-timeout-ms N] [--max-session-timeout-ms N] [--data-bytes-max N]
                 [--snap-count N] [--snap-retain-count N] [--purge-interval-ms N]
                 [--id N --servers 1=h:p:q[:observer][;clientPort],2=h:p:q,...]
                 [--election-timeout-ms N] [--sync-limit-ms N] [--init-limit-ms N]
                 [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--tls-client-auth need|want|none]
                  [--tls-key-password-file FILE]] [--admin-users FILE] [--allowed-origins a,b]
                 [--allow-uws-fallback] [--verify-snapshot]`;

export function serverUsage(): string {
  return flagHelp;
}

/** Builds the config from argv (after `server`). Throws ConfigError on anything it cannot use. */
export function parseServerArgs(argv: string[]): ServerConfig {
  const config = defaultConfig();
  const flags = new Map<string, string>();
  const booleans = new Set(['--allow-uws-fallback', '--verify-snapshot']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}\n${flagHelp}`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (booleans.has(name)) {
      flags.set(name, 'true');
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`${name} needs a value`);
    flags.set(name, value);
  }
  const cfgPath = flags.get('--config');
  if (cfgPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(cfgPath, 'utf8');
    } catch (err) {
      throw new ConfigError(`--config: cannot read ${cfgPath}: ${(err as Error).message}`);
    }
    applyZooCfg(config, text, dirname(resolve(cfgPath)));
  }
  for (const [name, value] of flags) {
    switch (name) {
      case '--config':
        break;
      case '--host': config.host = value; mark(config, 'host'); break;
      case '--port': config.port = int(value, name, 0, 65535); mark(config, 'port'); mark(config, 'portFlag'); break;
      case '--zk-port': config.zkPort = zkPortValue(value, name); break;
      case '--4lw-whitelist': config.fourLetterWords = fourLetterList(value); break;
      case '--data-dir': config.dataDir = resolve(value); break;
      case '--data-log-dir': config.dataLogDir = resolve(value); break;
      case '--workers': config.workers = int(value, name, 1, 64); break;
      case '--tick-ms': config.tickMs = int(value, name, 1); break;
      case '--log-level': config.logLevel = value; break;
      case '--min-session-timeout-ms': config.sessionTimeoutMsMin = int(value, name, 1); break;
      case '--max-session-timeout-ms': config.sessionTimeoutMsMax = int(value, name, 1); break;
      case '--data-bytes-max': config.dataBytesMax = int(value, name, 1, 64 * 1_048_576); break;
      case '--snap-count': config.snapshotEveryTxns = int(value, name, 2); break;
      case '--snap-retain-count': config.snapRetainCount = Math.max(3, int(value, name, 1)); break;
      case '--purge-interval-ms': config.purgeIntervalMs = int(value, name, 0); break;
      case '--max-client-cnxns': config.connectionsPerAddressMax = int(value, name, 0); break;
      case '--id': config.serverId = int(value, name, 0, serverIdMax); mark(config, 'id'); break;
      case '--servers': config.servers = parseServersFlag(value); break;
      case '--election-timeout-ms': config.electionTimeoutMs = int(value, name, 1); break;
      case '--sync-limit-ms': config.syncLimitMs = int(value, name, 1); break;
      case '--init-limit-ms': config.initLimitMs = int(value, name, 1); break;
      case '--allow-uws-fallback': config.allowUwsFallback = true; break;
      case '--verify-snapshot': config.verifySnapshot = true; break;
      case '--tls-cert': tlsDraft(config).certFile = resolve(value); break;
      case '--tls-key': tlsDraft(config).keyFile = resolve(value); break;
      case '--tls-ca': tlsDraft(config).caFile = resolve(value); break;
      case '--tls-client-auth': tlsDraft(config).clientAuth = clientAuthValue(value, name); break;
      case '--tls-key-password-file': tlsDraft(config).passphraseFile = resolve(value); break;
      case '--admin-users': config.adminUsersFile = resolve(value); break;
      case '--allowed-origins': config.allowedOrigins = allowedOriginsValue(value); break;
      default:
        throw new ConfigError(`unknown flag ${name}\n${flagHelp}`);
    }
  }
  return finish(config);
}

export function finish(config: ServerConfig): ServerConfig {
  finishSecurity(config);
  if (config.dataLogDir === '') config.dataLogDir = config.dataDir;
  if (config.purgeIntervalMs < 0) config.purgeIntervalMs = config.purgeIntervalHours * 3_600_000;
  if (config.sessionTimeoutMsMin === 0) config.sessionTimeoutMsMin = constants.sessionTimeoutTicksMin * config.tickMs;
  if (config.sessionTimeoutMsMax === 0) config.sessionTimeoutMsMax = constants.sessionTimeoutTicksMax * config.tickMs;
  if (config.sessionTimeoutMsMin > config.sessionTimeoutMsMax) {
    throw new ConfigError(`minSessionTimeout ${config.sessionTimeoutMsMin} > maxSessionTimeout ${config.sessionTimeoutMsMax}`);
  }
  if (config.initLimitTicks < 1) throw new ConfigError(`initLimit must be at least 1 tick, got ${config.initLimitTicks}`);
  if (config.syncLimitTicks < 1) throw new ConfigError(`syncLimit must be at least 1 tick, got ${config.syncLimitTicks}`);
  if (config.syncLimitMs < 0) config.syncLimitMs = config.syncLimitTicks * config.tickMs;
  if (config.initLimitMs < 0) config.initLimitMs = config.initLimitTicks * config.tickMs;
  if (config.electionTimeoutMs < 0) config.electionTimeoutMs = Math.min(2 * config.tickMs, constants.electionTimeoutMsDefaultMax);
  const ensemble = resolveEnsemble({
    servers: config.servers,
    idFlag: isSet(config, 'id') ? config.serverId : null,
    dataDir: config.dataDir,
    peerType: config.peerType,
    clientPort: isSet(config, 'port') ? config.port : null,
  });
  config.serverId = ensemble.serverId;
  config.observer = ensemble.observer;
  if (ensemble.clientPort !== null) config.port = ensemble.clientPort;
  if (ensemble.clientHost !== null && !isSet(config, 'host')) config.host = ensemble.clientHost;
  config.warnings.push(...ensemble.warnings);
  if (config.zkPort === -1) {
    // Default: the client port + zkPortOffset (2181 -> 3181), so servers of a one-host ensemble
    // with neighbouring client ports get neighbouring jute ports; port 0 (tests) -> any free port.
    const derived = config.port === 0 ? 0 : config.port + constants.zkPortOffset;
    if (derived > 65535) {
      config.warnings.push(`no ZooKeeper-protocol port: its default, the client port + ${constants.zkPortOffset} = ${derived}, is no port (set --zk-port)`);
      config.zkPort = null;
    } else {
      config.zkPort = derived;
      config.zkPortDefaulted = derived !== 0;
    }
  }
  if (config.zkPort !== null && config.zkPort !== 0 && config.zkPort === config.port) throw new ConfigError(`--zk-port ${config.zkPort} is the client port`);
  return config;
}

/**
 * TLS from the flags and zoo.cfg. secureClientPort is the client port served with TLS: zookooper
 * serves one client port, so a file with both clientPort and secureClientPort is refused rather
 * than silently dropping one (ZooKeeper serves both). With TLS the ZooKeeper-protocol port serves
 * TLS too, with the same certificates (workers/jute-listener.ts).
 */
function finishSecurity(config: ServerConfig): void {
  const draft = tlsDraft(config);
  config.tls = finishTls(draft);
  // --port wins over both keys, as every flag over the file.
  if (draft.securePort !== null && !isSet(config, 'portFlag')) {
    if (isSet(config, 'clientPortKey') && config.port !== draft.securePort) {
      throw new ConfigError(`zoo.cfg has clientPort ${config.port} and secureClientPort ${draft.securePort}: zookooper serves one client port; keep secureClientPort (TLS) or clientPort (plain)`);
    }
    config.port = draft.securePort;
    mark(config, 'port');
  }
}

export function negotiateTimeoutMs(config: ServerConfig, askedMs: number): number {
  return Math.min(config.sessionTimeoutMsMax, Math.max(config.sessionTimeoutMsMin, askedMs));
}
