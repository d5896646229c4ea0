// Watch firing for one worker's connections: the registry (watches.ts) plus each connection's
// own keys, so a closed connection drops its watches and a one-shot delivery forgets its key.
// An event is encoded once per codec and sent to every open connection it reaches.
import type { ChangeEventType } from '../pipeline/api.js';
import type { ConnCodec } from './codec.js';
import { sendFrame, type Conn } from './conn.js';
import { WatchRegistry, type Delivery, type WatchKind } from './watches.js';

export class SessionWatches {
  private readonly registry = new WatchRegistry<Conn>();

  add(conn: Conn, kind: WatchKind, path: string): void {
    // setWatches may bring up to the protocol's path bound at once; the bound is checked per request.
    if (this.registry.add(kind, path, conn)) conn.watchKeys.add(kind + '\0' + path);
  }

  remove(conn: Conn, kind: WatchKind, path: string): void {
    if (this.registry.remove(kind, path, conn)) conn.watchKeys.delete(kind + '\0' + path);
  }

  has(conn: Conn, kind: WatchKind, path: string): boolean {
    return this.registry.has(kind, path, conn);
  }

  /** A connection closed: every registration of it goes. */
  drop(conn: Conn): void {
    for (const key of conn.watchKeys) {
      const i = key.indexOf('\0');
      this.registry.remove(key.slice(0, i) as WatchKind, key.slice(i + 1), conn);
    }
    conn.watchKeys.clear();
  }

  /** One committed change: notify every watching connection of this worker. */
  fire(type: ChangeEventType, path: string, zxid: bigint): void {
    const deliveries: Delivery<Conn>[] = [];
    this.registry.trigger(type, path, deliveries);
    if (deliveries.length === 0) return;
    let codec: ConnCodec | null = null;
    let frame: Uint8Array | null = null;
    for (const d of deliveries) {
      if (d.session.state !== 'open') continue;
      this.forgetKey(d.session, type, path);
      if (d.session.codec !== codec || frame === null) {
        codec = d.session.codec;
        frame = codec.watchEvent(zxid, type, path);
      }
      sendFrame(d.session, frame);
    }
  }

  count(): number {
    return this.registry.count();
  }

  /** One-shot registrations consumed by a delivery leave the connection's key set too. */
  private forgetKey(conn: Conn, type: string, path: string): void {
    if (type === 'childrenChanged' || type === 'deleted') if (!this.registry.has('child', path, conn)) conn.watchKeys.delete('child\0' + path);
    if (type !== 'childrenChanged') if (!this.registry.has('data', path, conn)) conn.watchKeys.delete('data\0' + path);
  }
}
