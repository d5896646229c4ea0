// Invariant checks that stay on in production. A broken invariant is a bug in zookooper, never a
// user error: it throws AssertionError, which nothing in the server catches and hides.
export class AssertionError extends Error {
  override name = 'AssertionError';
}

/**
 * `message` may be a function so that hot paths build the text only when the check fails:
 * a template literal argument is evaluated on every call, which showed up in write profiles.
 */
export function assert(condition: unknown, message: string | (() => string) = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(typeof message === 'function' ? message() : message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
