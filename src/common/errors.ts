// Expected failures: ZooKeeper's error codes by name, on the wire and in the API.
// The numeric codes are ZooKeeper's own (KeeperException.Code), kept for reference and metrics.
export const errorCodes = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;

export type ErrorCode = Exclude<keyof typeof errorCodes, 'OK'>;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value !== 'OK' && Object.hasOwn(errorCodes, value);
}

const brand = Symbol.for('zookooper.ZookooperError');

export interface OpResultError {
  op: 'error';
  code: ErrorCode | 'OK' | 'RUNTIMEINCONSISTENCY';
}

export class ZookooperError extends Error {
  override name = 'ZookooperError';
  readonly code: ErrorCode;
  path?: string;
  results?: unknown[];

  constructor(code: ErrorCode, message?: string, path?: string) {
    super(message ?? (path === undefined ? code : `${code}: ${path}`));
    this.code = code;
    if (path !== undefined) this.path = path;
    (this as unknown as Record<symbol, boolean>)[brand] = true;
  }

  // instanceof survives duplicate package copies and errors rebuilt after crossing threads.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
