// A frame that does not follow the wire spec. The server closes just that connection, sending the
// reason in a `closing` frame; the client drops the connection and reconnects. Never a user error
// that reaches the API as such (the client validates arguments before sending).
const brand = Symbol.for('zookooper.ProtocolError');

export class ProtocolError extends Error {
  override name = 'ProtocolError';
  readonly reason: string;
  /** The request's xid when the frame got that far: a server may answer it instead of closing. */
  readonly xid: number | undefined;

  constructor(reason: string, xid?: number) {
    super(`protocol error: ${reason}`);
    this.reason = reason;
    this.xid = xid;
    (this as unknown as Record<symbol, boolean>)[brand] = true;
  }

  // instanceof survives duplicate package copies and errors rebuilt after crossing threads.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
