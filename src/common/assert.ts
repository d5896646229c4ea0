// Invariant checks that stay on in production. A broken invariant is a bug in zookooper, never a
// user error: it throws AssertionError, which nothing in the server catches and hides.
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
