// Client options and their defaults, each bound named with its unit.
import { constants } from '../common/constants.js';
import { assert } from '../common/assert.js';

export interface AuthInfo {
  scheme: string;
  credential: string | Uint8Array;
}

/**
 * TLS to servers started with --tls-cert (wss://). The fields are node:tls's own
 * (tls.connect): PEM text or Buffers. `ca` trusts a private CA; `cert` + `key` are the client
 * certificate a server with --tls-ca asks for (its subject is the session's x509 id).
 */
export interface TlsOptions {
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  /** The name the server certificate must carry when it is not the host connected to. */
  servername?: string;
  /** false accepts any server certificate: for tests only. Default true. */
  rejectUnauthorized?: boolean;
}

export interface ConnectOptions {
  /** Asked for; the server negotiates it into its [min, max]. */
  sessionTimeoutMs?: number;
  /** Per connection attempt (TCP + WebSocket + session handshake). */
  connectTimeoutMs?: number;
  auth?: AuthInfo[];
  /** A request not answered this long after the call fails with OPERATIONTIMEOUT. */
  requestTimeoutMs?: number;
  /** Requests sent and not yet answered; more wait in the client's queue. */
  outstandingRequestsMax?: number;
  /** Requests waiting in the client's queue (disconnected, or over the outstanding bound); more are refused with THROTTLEDOP. */
  queuedRequestsMax?: number;
  /** Connect with TLS (wss://); absent: plain ws://. */
  tls?: TlsOptions;
}

export const clientDefaults = {
  sessionTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  attemptTimeoutMsMin: 250, // a connection attempt's deadline never drops below this (session timeout / hosts)
  requestTimeoutMs: 30_000,
  outstandingRequestsMax: constants.outstandingRequestsPerSessionMax,
  queuedRequestsMax: 100_000,
  outstandingBytesMax: 64 * 1_048_576, // frames sent and unanswered; bounds socket buffering
  reconnectDelayMsMin: 10, // first pause after a round over every host failed
  reconnectDelayMsMax: 250, // the pause doubles per round up to this (a new leader serves within ~100 ms: a client should not sleep a second past it)
  readTimeoutFraction: 2 / 3, // nothing heard for this part of the session timeout: connection lost (ZooKeeper's readTimeout)
  pingIntervalFraction: constants.pingIntervalFraction,
  tickMsMin: 10, // the housekeeping timer's period bounds
  tickMsMax: 250,
  setWatchesChunkBytes: 128 * 1024, // ZooKeeper's SET_WATCHES_MAX_LENGTH: paths per setWatches frame
} as const;

assert(clientDefaults.pingIntervalFraction < clientDefaults.readTimeoutFraction, 'pings come before the read timeout');
assert(clientDefaults.setWatchesChunkBytes < constants.frameBytesMax / 2, 'a setWatches chunk fits a frame');

export interface ResolvedOptions {
  sessionTimeoutMs: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  outstandingRequestsMax: number;
  queuedRequestsMax: number;
  auth: AuthInfo[];
  tls: TlsOptions | null;
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 0x7fff_ffff) {
    throw new TypeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export function resolveOptions(o: ConnectOptions = {}): ResolvedOptions {
  return {
    sessionTimeoutMs: positiveInt(o.sessionTimeoutMs, 'sessionTimeoutMs', clientDefaults.sessionTimeoutMs),
    connectTimeoutMs: positiveInt(o.connectTimeoutMs, 'connectTimeoutMs', clientDefaults.connectTimeoutMs),
    requestTimeoutMs: positiveInt(o.requestTimeoutMs, 'requestTimeoutMs', clientDefaults.requestTimeoutMs),
    outstandingRequestsMax: positiveInt(o.outstandingRequestsMax, 'outstandingRequestsMax', clientDefaults.outstandingRequestsMax),
    queuedRequestsMax: positiveInt(o.queuedRequestsMax, 'queuedRequestsMax', clientDefaults.queuedRequestsMax),
    auth: o.auth ?? [],
    tls: o.tls ?? null,
  };
}
