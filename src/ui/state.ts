// What every view shares: the session, whether the user gave admin credentials, and a status line.
import type { ZookooperClient } from '../browser/index.js';

export interface ConsoleState {
  zk: ZookooperClient;
  /** True until the user gave credentials (addAuth succeeded); the server's ACL checks decide the rest. */
  readOnly: boolean;
  /**
   * The Authorization header (HTTP Basic) for the admin pages (/mntr) once the user signed in:
   * with --admin-users they answer 401 without it. Kept in this page's memory only; null: not signed in.
   */
  adminAuthorization: string | null;
  /** Shows a message (errors such as NOAUTH or BADVERSION in red) in the status bar. */
  say(message: string, isError?: boolean): void;
  /** Called after every reconnect of the session, so views re-read what they show. */
  onReconnect(fn: () => void): void;
}
