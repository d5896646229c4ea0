// The errors the data recipes throw. Expected failures are ZookooperErrors with ZooKeeper's code
// names (callers already switch on `code`); two get their own class because a caller needs to tell
// them apart from a plain failure of the same code, branded like ZookooperError so `instanceof`
// survives duplicate package copies.
import { ZookooperError, type ErrorCode } from '../../common/errors.js';

const retriesBrand = Symbol.for('zookooper.AtomicRetriesExhaustedError');
const parseBrand = Symbol.for('zookooper.ConfigParseError');

function brand(target: object, key: symbol): void {
  (target as Record<symbol, boolean>)[key] = true;
}
function branded(value: unknown, key: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[key] === true;
}

/**
 * An atomic counter/value lost the optimistic compare-and-set race `attempts` times in a row
 * (code BADVERSION: every attempt's setData was refused because another writer got in first).
 * Nothing was changed by this call.
 */
export class AtomicRetriesExhaustedError extends ZookooperError {
  override name = 'AtomicRetriesExhaustedError';
  constructor(
    readonly attempts: number,
    path: string,
  ) {
    super('BADVERSION', `gave up after ${attempts} attempts lost the compare-and-set race on ${path}`, path);
    brand(this, retriesBrand);
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, retriesBrand);
  }
}

/** A config node's bytes did not parse (code MARSHALLINGERROR); `cause` is what the parser threw. */
export class ConfigParseError extends ZookooperError {
  override name = 'ConfigParseError';
  constructor(path: string, cause: unknown) {
    super('MARSHALLINGERROR', `config at ${path} did not parse: ${cause instanceof Error ? cause.message : String(cause)}`, path);
    this.cause = cause;
    brand(this, parseBrand);
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, parseBrand);
  }
}

export function recipeError(code: ErrorCode, message: string, path?: string): ZookooperError {
  return new ZookooperError(code, message, path);
}

/** A recipe used after close() (or before start()) is a caller's mistake: APIERROR, as the lock recipes. */
export function closedError(what: string, path: string): ZookooperError {
  return new ZookooperError('APIERROR', `${what} is closed`, path);
}
