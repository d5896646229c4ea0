// The zkCli commands: each parses its words and runs against a connected client, writing text.
import { connect } from '../client/client.js';
import { ZookooperError } from '../common/errors.js';
import type { CreateMode, WatchedEvent } from '../common/types.js';
import { formatAcl, parseAclText } from './acl-text.js';
import { formatStat } from './format.js';
import { servicesCommand } from './services.js';

export type Client = Awaited<ReturnType<typeof connect>>;

export interface Out {
  write(text: string): void;
}

export interface Context {
  zk: Client;
  out: Out;
  interactive: boolean;
  /** Resolves when the user ends the session (stdin end, Ctrl-C); for `watch` in one-shot mode. */
  untilInterrupted(): Promise<void>;
}

/** A mistake in how a command was typed (exit status 2, usage printed). */
export class UsageError extends Error {
  override name = 'UsageError';
}

interface Spec {
  usage: string;
  flags: string; // boolean flag letters
  valued: string; // flag letters that take a value
  args: [number, number]; // positional count range
  run(ctx: Context, flags: Map<string, string | true>, args: string[]): Promise<void>;
}

function parse(name: string, spec: Spec, words: string[]): { flags: Map<string, string | true>; args: string[] } {
  const flags = new Map<string, string | true>();
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') {
      args.push(...words.slice(i + 1));
      break;
    }
    if (w.length === 2 && w[0] === '-' && spec.flags.includes(w[1]!)) flags.set(w[1]!, true);
    else if (w.length === 2 && w[0] === '-' && spec.valued.includes(w[1]!)) {
      const v = words[++i];
      if (v === undefined) throw new UsageError(`${name}: ${w} needs a value\nusage: ${spec.usage}`);
      flags.set(w[1]!, v);
    } else if (w.length > 1 && w[0] === '-' && !/^-\d/.test(w)) throw new UsageError(`${name}: unknown option ${w}\nusage: ${spec.usage}`);
    else args.push(w);
  }
  if (args.length < spec.args[0] || args.length > spec.args[1]) throw new UsageError(`usage: ${spec.usage}`);
  return { flags, args };
}

function intFlag(flags: Map<string, string | true>, f: string, def: number): number {
  const v = flags.get(f);
  if (v === undefined || v === true) return def;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`-${f} needs an integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function eventLine(e: WatchedEvent): string {
  return `WatchedEvent type:${e.type} path:${e.path}\n`;
}

function watcherFor(ctx: Context): ((e: WatchedEvent) => void) | undefined {
  // One-shot mode exits right after the command, so a watch could never be heard: set none.
  if (!ctx.interactive) return undefined;
  return (e) => ctx.out.write(`\nWATCHER::\n${eventLine(e)}`);
}

const sortNames = (names: string[]): string[] => names.sort();

async function listRecursive(ctx: Context, root: string): Promise<void> {
  // Breadth first, as zkCli's ls -R.
  const queue = [root];
  while (queue.length > 0) {
    const path = queue.shift()!;
    ctx.out.write(path + '\n');
    let children: string[];
    try {
      children = sortNames(await ctx.zk.getChildren(path));
    } catch (e) {
      if (e instanceof ZookooperError && e.code === 'NONODE' && path !== root) continue; // deleted meanwhile
      throw e;
    }
    for (const c of children) queue.push(path === '/' ? '/' + c : path + '/' + c);
  }
}

async function deleteAll(zk: Client, root: string): Promise<void> {
  const order = [root];
  for (let i = 0; i < order.length; i++) {
    const path = order[i]!;
    const children = await zk.getChildren(path).catch((e: unknown) => {
      if (e instanceof ZookooperError && e.code === 'NONODE' && path !== root) return [] as string[];
      throw e;
    });
    for (const c of children) order.push(path === '/' ? '/' + c : path + '/' + c);
  }
  // Deepest first; pipelined, and per-session order keeps children before their parents.
  const deletes = order.reverse().filter((p) => p !== '/' && p !== '/zookeeper' && !p.startsWith('/zookeeper/'));
  await Promise.all(
    deletes.map((p) =>
      zk.delete(p).catch((e: unknown) => {
        if (e instanceof ZookooperError && e.code === 'NONODE') return;
        throw e;
      }),
    ),
  );
}

function createMode(flags: Map<string, string | true>): CreateMode {
  const e = flags.has('e');
  const s = flags.has('s');
  const c = flags.has('c');
  const t = flags.has('t');
  if (c && (e || s || t)) throw new UsageError('create: -c cannot be combined with -e, -s or -t');
  if (e && t) throw new UsageError('create: -e cannot be combined with -t');
  if (c) return 'container';
  if (t) return s ? 'persistent_sequential_with_ttl' : 'persistent_with_ttl';
  if (e) return s ? 'ephemeral_sequential' : 'ephemeral';
  return s ? 'persistent_sequential' : 'persistent';
}

export const commands: Record<string, Spec> = {
  ls: {
    usage: 'ls [-s] [-w] [-R] PATH',
    flags: 'swR',
    valued: '',
    args: [1, 1],
    async run(ctx, flags, [path]) {
      if (flags.has('R')) return listRecursive(ctx, path!);
      const w = flags.has('w') ? watcherFor(ctx) : undefined;
      const { children, stat } = await ctx.zk.getChildrenWithStat(path!, w ? { watch: w } : undefined);
      ctx.out.write(`[${sortNames(children).join(', ')}]\n`);
      if (flags.has('s')) ctx.out.write(formatStat(stat) + '\n');
    },
  },
  get: {
    usage: 'get [-s] [-w] PATH',
    flags: 'sw',
    valued: '',
    args: [1, 1],
    async run(ctx, flags, [path]) {
      const w = flags.has('w') ? watcherFor(ctx) : undefined;
      const { data, stat } = await ctx.zk.getData(path!, w ? { watch: w } : undefined);
      ctx.out.write(data.toString('utf8') + '\n');
      if (flags.has('s')) ctx.out.write(formatStat(stat) + '\n');
    },
  },
  stat: {
    usage: 'stat PATH',
    flags: '',
    valued: '',
    args: [1, 1],
    async run(ctx, _flags, [path]) {
      const stat = await ctx.zk.exists(path!);
      if (stat === null) throw new ZookooperError('NONODE', undefined, path);
      ctx.out.write(formatStat(stat) + '\n');
    },
  },
  set: {
    usage: 'set PATH DATA [-v VERSION]',
    flags: 's',
    valued: 'v',
    args: [2, 2],
    async run(ctx, flags, [path, data]) {
      const stat = await ctx.zk.setData(path!, data!, intFlag(flags, 'v', -1));
      if (flags.has('s')) ctx.out.write(formatStat(stat) + '\n');
    },
  },
  create: {
    usage: 'create [-e] [-s] [-c] [-t TTL_MS] PATH [DATA]',
    flags: 'esc',
    valued: 't',
    args: [1, 2],
    async run(ctx, flags, [path, data]) {
      const mode = createMode(flags);
      const ttlMs = flags.has('t') ? intFlag(flags, 't', 0) : undefined;
      const created = await ctx.zk.create(path!, data ?? '', ttlMs === undefined ? { mode } : { mode, ttlMs });
      ctx.out.write(`Created ${created}\n`);
    },
  },
  delete: {
    usage: 'delete [-v VERSION] PATH',
    flags: '',
    valued: 'v',
    args: [1, 1],
    async run(ctx, flags, [path]) {
      await ctx.zk.delete(path!, intFlag(flags, 'v', -1));
    },
  },
  deleteall: {
    usage: 'deleteall PATH',
    flags: '',
    valued: '',
    args: [1, 1],
    async run(ctx, _flags, [path]) {
      await deleteAll(ctx.zk, path!);
    },
  },
  getAcl: {
    usage: 'getAcl PATH',
    flags: 's',
    valued: '',
    args: [1, 1],
    async run(ctx, flags, [path]) {
      const { acl, stat } = await ctx.zk.getACL(path!);
      ctx.out.write(formatAcl(acl) + '\n');
      if (flags.has('s')) ctx.out.write(formatStat(stat) + '\n');
    },
  },
  setAcl: {
    usage: 'setAcl PATH ACL   (ACL like world:anyone:cdrwa,digest:user:hash:r)',
    flags: 's',
    valued: 'v',
    args: [2, 2],
    async run(ctx, flags, [path, text]) {
      let acl;
      try {
        acl = parseAclText(text!);
      } catch (e) {
        throw new UsageError(`setAcl: ${(e as Error).message}`);
      }
      const stat = await ctx.zk.setACL(path!, acl, intFlag(flags, 'v', -1));
      if (flags.has('s')) ctx.out.write(formatStat(stat) + '\n');
    },
  },
  addauth: {
    usage: 'addauth SCHEME AUTH',
    flags: '',
    valued: '',
    args: [2, 2],
    async run(ctx, _flags, [scheme, auth]) {
      await ctx.zk.addAuth(scheme!, auth!);
    },
  },
  sync: {
    usage: 'sync PATH',
    flags: '',
    valued: '',
    args: [1, 1],
    async run(ctx, _flags, [path]) {
      await ctx.zk.sync(path!);
      ctx.out.write('Sync is OK\n');
    },
  },
  watch: {
    usage: 'watch [-R] PATH   (prints events until Ctrl-C or end of input)',
    flags: 'R',
    valued: '',
    args: [1, 1],
    async run(ctx, flags, [path]) {
      const mode = flags.has('R') ? 'persistent_recursive' : 'persistent';
      await ctx.zk.addWatch(path!, mode, (e) => ctx.out.write(eventLine(e)));
      ctx.out.write(`watching ${path} (${mode})\n`);
      if (!ctx.interactive) await ctx.untilInterrupted();
    },
  },
  register: {
    usage: 'register PATH [DATA]   (an ephemeral znode, held until Ctrl-C or end of input)',
    flags: '',
    valued: '',
    args: [1, 2],
    async run(ctx, _flags, [path, data]) {
      // An ephemeral lives exactly as long as its session: `create -e` from a one-shot command
      // is gone when the command exits, so this one stays up to hold it.
      const created = await ctx.zk.create(path!, data ?? '', { mode: 'ephemeral' });
      if (ctx.interactive) {
        ctx.out.write(`Registered ${created} (ephemeral: until quit)\n`);
        return;
      }
      ctx.out.write(`Registered ${created} (ephemeral: until Ctrl-C)\n`);
      const expired = new Promise<'expired'>((resolve) => {
        const onState = (state: string): void => {
          if (state !== 'expired') return;
          ctx.zk.off('state', onState);
          resolve('expired');
        };
        ctx.zk.on('state', onState);
      });
      const why = await Promise.race([ctx.untilInterrupted(), expired]);
      if (why === 'expired') throw new ZookooperError('SESSIONEXPIRED', `the session expired: ${created} is gone`, created);
    },
  },
  services: {
    usage: 'services [-b BASE] [NAME]   (registered service instances, as a table)',
    flags: '',
    valued: 'b',
    args: [0, 1],
    run: (ctx, flags, [name]) => servicesCommand(ctx, flags.get('b'), name),
  },
};

export function helpText(): string {
  const lines = Object.values(commands).map((c) => `  ${c.usage}`);
  return ['commands:', ...lines, '  srvr   (one-shot: each -s server\'s role, zxid, figures)', '  help', '  quit'].join('\n') + '\n';
}

/** `--help` or `-h` after a command's name: its usage is wanted, not the command. */
export function wantsHelp(words: string[]): boolean {
  return words.slice(1).some((w) => w === '--help' || w === '-h');
}

/** The usage line of one command (`usage: get [-s] [-w] PATH`). */
export function commandUsage(name: string): string {
  const spec = Object.hasOwn(commands, name) ? commands[name] : undefined;
  return spec === undefined ? helpText() : `usage: ${spec.usage}\n`;
}

/** Checks how a command line is typed, without running it (so a one-shot call fails before it connects). */
export function checkCommand(words: string[]): void {
  const [name, ...rest] = words;
  if (name === undefined) return;
  const spec = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (spec === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}\n${helpText()}`);
  const { flags } = parse(name, spec, rest);
  if (name === 'create') createMode(flags); // its flag combinations are usage errors too
}

/** Run one command line's words. Throws UsageError or ZookooperError. */
export async function runCommand(ctx: Context, words: string[]): Promise<void> {
  const [name, ...rest] = words;
  if (name === undefined) return;
  if (wantsHelp(words) && Object.hasOwn(commands, name)) {
    ctx.out.write(commandUsage(name));
    return;
  }
  const spec = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (spec === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}\n${helpText()}`);
  const { flags, args } = parse(name, spec, rest);
  await spec.run(ctx, flags, args);
}
