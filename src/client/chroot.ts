// Mapping between the caller's paths (relative to the chroot) and the server's absolute paths.
export class Chroot {
  /** '' when there is no chroot, else the prefix without a trailing slash, e.g. '/app'. */
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix === '/' ? '' : prefix;
  }

  /** Client path -> server path. '/' maps to the chroot itself. */
  toServer(path: string): string {
    if (this.prefix === '') return path;
    return path === '/' ? this.prefix : this.prefix + path;
  }

  /**
   * Server path -> client path; null for a path outside the chroot (never expected from the
   * server, but an event for it must not be delivered under a wrong name).
   */
  fromServer(path: string): string | null {
    const p = this.prefix;
    if (p === '') return path;
    if (path === p) return '/';
    if (path.length > p.length && path.charCodeAt(p.length) === 47 && path.startsWith(p)) return path.slice(p.length);
    return null;
  }
}
