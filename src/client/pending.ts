// A request between the caller's call and its answer. One object per request; the response is
// decoded according to `kind`, then the promise settles.
import type { ZookooperError } from '../common/errors.js';
import type { Watcher } from '../common/types.js';
import type { Request } from '../protocol/messages.js';

/** How a response payload is decoded and what the caller gets. */
export const Kind = {
  none: 0, // void
  create: 1, // string (chroot stripped)
  create2: 2, // { path, stat }
  stat: 3, // Stat
  exists: 4, // Stat | null, registers a data or exist watch
  getData: 5, // { data, stat }, registers a data watch
  children: 6, // string[], registers a child watch
  children2: 7, // { children, stat }
  acl: 8, // { acl, stat }
  number: 9,
  ephemerals: 10, // string[] (chroot stripped)
  multi: 11, // OpResult[]
  removeWatches: 12, // void; NOWATCHER from the server is not an error (removed locally)
  addWatch: 13, // void, registers a persistent watch
  internal: 14, // ping, setWatches, re-sent auth: nobody awaits
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export class Pending {
  xid = 0;
  bytes = 0; // the frame size, counted against the in-flight byte bound
  constructor(
    readonly req: Request,
    readonly kind: Kind,
    /** The caller's path, for errors and watch registration; '' when none. */
    readonly path: string,
    readonly watcher: Watcher | null,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: ZookooperError) => void,
    readonly submittedAtMs: number,
    /** multi: the caller's op paths; addWatch: recursive flag; removeWatches: the removal to report. */
    readonly extra: unknown = null,
  ) {}
}

export const noop = (): void => {};
