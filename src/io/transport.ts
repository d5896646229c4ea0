// The peer Transport the quorum driver is given: messages between the servers of an ensemble.
// The real one (src/io/node/transport.ts) runs over TCP; the simulator in test/ has its own.
//
// Contract (what the Zab core may rely on, and what it must not):
//   - Per destination peer, messages arrive in the order they were sent, or not at all: a link
//     never reorders and never duplicates. It may lose messages, but only around a link going
//     down: every loss is followed by onLinkDown for that peer (on this side and, for TCP, on the
//     other side too), and a message sent while a link is down is dropped, not queued for later.
//     The core resynchronises after linkDown (a follower re-runs discovery/sync, a leader drops
//     the learner's in-flight state), so nothing waits for a message that was dropped.
//   - onLinkUp and onLinkDown alternate per peer, starting with onLinkUp. A link is up once this
//     server's own outbound connection to the peer is established; it is reported down when
//     that outbound connection or the peer's inbound connection to us closes.
//   - Messages from a peer may arrive while our link to it is down (its outbound to us can work
//     while ours is still connecting): a one-way partition is a real state the core must handle.
//   - Payloads are opaque here: anything the codec round-trips (objects, arrays, strings, numbers,
//     bigint, Uint8Array). The receiver validates them (validatePeerMessage in src/server/quorum/).
//   - Handlers run synchronously on delivery. An exception from a handler is not caught (a bug is
//     loud); a driver that finds a message invalid calls disconnect(peer, reason) instead.
//     After close() no handler is called again.

export interface Transport {
  /** Queues `payload` for `to` (FIFO per destination); dropped if the link to `to` is down. */
  send(to: number, payload: unknown): void;
  /** Encodes `payload` once and writes the same bytes to every listed peer whose link is up. */
  sendToMany(to: readonly number[], payload: unknown): void;
  onMessage(handler: (from: number, payload: unknown) => void): void;
  onLinkUp(handler: (peer: number) => void): void;
  onLinkDown(handler: (peer: number, reason: string) => void): void;
  /**
   * Cuts both connections with `peer` (the driver got a message that failed validation): logged
   * with `reason`, reported as onLinkDown if the link was up, and redialled after the backoff.
   */
  disconnect(peer: number, reason: string): void;
  /** Stops listening, cuts every link, cancels every timer; resolves when the listener is closed. */
  close(): Promise<void>;
  stats(): TransportStats;
}

export interface PeerLinkStats {
  peer: number;
  /** Our outbound connection is established (the link is up). */
  connected: boolean;
  /** The peer's connection to us has said hello and is open. */
  inboundConnected: boolean;
  /** Bytes written to the link and not yet taken by the kernel. */
  queuedBytes: number;
  framesOut: number;
  framesIn: number;
  bytesOut: number;
  bytesIn: number;
  /** Messages not sent because the link was down. */
  framesDropped: number;
  /** How many times the link went down. */
  linkDowns: number;
}

export interface TransportStats {
  /** Payloads encoded (sendToMany counts one however many peers it writes to). */
  framesEncoded: number;
  peers: PeerLinkStats[];
}
