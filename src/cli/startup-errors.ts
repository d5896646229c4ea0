// Fatal start-up errors of `zookooper server` as one plain sentence for a person at a terminal:
// what is wrong and what to do. Log collectors get the JSON line instead (main.ts decides).
import { ConfigError, serverUsage } from '../common/config.js';

/** How the server writes its log: `pretty` on a terminal, `json` for collectors. */
export type LogFormat = 'json' | 'pretty';

/** Takes `--log-format json|pretty` (or `--log-format=...`) out of argv; the rest is for parseServerArgs. */
export function takeLogFormat(argv: string[], stdoutIsTty: boolean): { format: LogFormat; rest: string[] } {
  let format: LogFormat = stdoutIsTty ? 'pretty' : 'json';
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a !== '--log-format' && !a.startsWith('--log-format=')) {
      rest.push(a);
      continue;
    }
    const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
    if (value !== 'json' && value !== 'pretty') throw new ConfigError(`--log-format needs json or pretty, got ${JSON.stringify(value ?? '')}`);
    format = value;
  }
  return { format, rest };
}

interface SystemError extends Error {
  code?: string;
  path?: string;
  syscall?: string;
}

const fsReasons: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a file is in the way where a directory should be',
  EISDIR: 'a directory is in the way where a file should be',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
};

/** One sentence, no stack: why the server did not start and what to do about it. */
export function explainStartupError(err: unknown, where: { host?: string; port?: number; dataDir?: string } = {}): string {
  const e: SystemError = err instanceof Error ? err : new Error(String(err));
  const first = e.message.split('\n')[0]!.replace(/\.$/, '');
  if (e instanceof ConfigError) {
    const unknown = /^(--[\w-]+) needs a value$/.exec(first);
    const what = unknown && !serverUsage().includes(unknown[1]!) ? `unknown flag ${unknown[1]}` : first;
    return `${what}. Run \`zookooper server --help\` for the flags.`;
  }
  if (e.name === 'PortInUseError') return `${first} (another server running?): stop it, or pick another port with --port N (0 = any free port).`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${where.host ?? 'that host'}: it is not an address of this machine: pass --host with one of its addresses (0.0.0.0 for all).`;
  if (e.code === 'EACCES' && (e.syscall === 'listen' || e.syscall === 'bind')) return `not allowed to listen on port ${where.port ?? '?'} (ports below 1024 need privileges): pick another with --port N.`;
  if (e.code !== undefined && e.path !== undefined && fsReasons[e.code] !== undefined) {
    return `cannot use ${e.path} (${fsReasons[e.code]}): point --data-dir (and --data-log-dir) at a directory this user can write.`;
  }
  if (e.name === 'LogCorruptError' || e.name === 'SnapshotCorruptError') {
    return `the data in ${where.dataDir ?? 'the data dir'} is damaged (${first}): restore it from a backup, or move it aside to start empty.`;
  }
  if (/--allow-uws-fallback/.test(first)) return `${first}.`; // already says what to do
  return `${first}. Run again with --log-format json for the details.`;
}
