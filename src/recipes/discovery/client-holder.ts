// The client a registry or discovery works through, and what happens to it over time:
//
//   connected --lost--> disconnected --back, same session--> connected      => onReconnected()
//                                     \--session timeout--> expired
//   expired --factory (bounded retries) or reattach(newClient)--> connected  => onNewSession()
//
// A ZooKeeper session that expired is gone for good (its ephemerals and watches with it), and the
// client of CLIENT_API.md does not make a new one by itself: the application owns connections.
// So the holder either calls a connection factory the application gave it (Curator's model: the
// framework makes the new ZooKeeper handle), or waits for the application to call reattach().
import type { ZookooperClient, ClientState } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import { discoveryDefaults } from './instance.js';

export type ClientFactory = () => Promise<ZookooperClient>;

export interface HolderHooks {
  /** Same session back after a lost connection: persistent watches are back, missed events are not. */
  onReconnected(client: ZookooperClient): void;
  /** A new session (after expiry, or reattach): ephemerals and watches must be made again. */
  onNewSession(client: ZookooperClient): void;
  /** The session expired; a new one follows if there is a factory. */
  onExpired(): void;
  /** The factory failed renewAttemptsMax times: nothing more happens until reattach(). */
  onRenewFailed(err: unknown): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ClientHolder {
  private current: ZookooperClient;
  private owned: boolean; // made by our factory: we close it
  private wasDisconnected = false;
  private closed = false;
  private renewing = false;

  constructor(
    client: ZookooperClient,
    private readonly factory: ClientFactory | null,
    private readonly hooks: HolderHooks,
    ownsFirst = false,
  ) {
    this.current = client;
    this.owned = ownsFirst;
    client.on('state', this.onState);
  }

  get client(): ZookooperClient {
    return this.current;
  }

  /** Switch to `client` (a new session, as a rule): hooks.onNewSession runs for it. */
  attach(client: ZookooperClient, owned: boolean): void {
    if (this.closed) throw new ZookooperError('SESSIONEXPIRED', 'attached to a closed registry or discovery');
    this.current.off('state', this.onState);
    this.current = client;
    this.owned = owned;
    this.wasDisconnected = false;
    client.on('state', this.onState);
    this.hooks.onNewSession(client);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.current.off('state', this.onState);
    if (this.owned) await this.current.close();
  }

  // An arrow function: it is the listener identity we add and remove.
  private readonly onState = (state: ClientState): void => {
    if (this.closed) return;
    if (state === 'disconnected') this.wasDisconnected = true;
    else if (state === 'connected' && this.wasDisconnected) {
      this.wasDisconnected = false;
      this.hooks.onReconnected(this.current);
    } else if (state === 'expired') {
      this.hooks.onExpired();
      if (this.factory !== null) void this.renew(this.factory);
    }
  };

  /** Bounded: renewAttemptsMax calls of the factory with a doubling pause between them. */
  private async renew(factory: ClientFactory): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    let last: unknown = null;
    try {
      for (let attempt = 0; attempt < discoveryDefaults.renewAttemptsMax && !this.closed; attempt++) {
        try {
          const client = await factory();
          if (this.closed) {
            await client.close();
            return;
          }
          this.attach(client, true);
          return;
        } catch (err) {
          last = err;
          const delay = Math.min(discoveryDefaults.renewDelayMsMax, discoveryDefaults.renewDelayMsMin * 2 ** attempt);
          await sleep(delay);
        }
      }
      if (!this.closed) this.hooks.onRenewFailed(last);
    } finally {
      this.renewing = false;
    }
  }
}
