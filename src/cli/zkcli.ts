// `zookooper cli [-s host:port[,...]] [-timeout MS] [COMMAND ARGS...]`: zkCli for zookooper.
// With a COMMAND it runs that one command and exits (0 ok, 1 a ZooKeeper error or no server, 2 a
// usage error, checked before connecting); `watch` and `register` stay up until Ctrl-C. Without
// one it reads commands from stdin with a prompt (node:readline).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { connect } from '../client/client.js';
import type { TlsOptions } from '../client/options.js';
import { ZookooperError } from '../common/errors.js';
import { checkCommand, commandUsage, commands, helpText, runCommand, UsageError, wantsHelp, type Client, type Context } from './commands.js';
import { formatError, splitWords } from './format.js';
import { runSrvr, type PageAccess } from './srvr.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

const defaultServer = '127.0.0.1:2181';
const cliSessionTimeoutMs = 10_000;

const usage = `usage: zookooper cli [-s host:port[,host:port...][/chroot]] [-timeout MS] [--user NAME:PASSWORD]
                     [--tls-ca FILE [--tls-cert FILE --tls-key FILE]] [COMMAND ARGS...]   (COMMAND --help: its usage)
  --user: an --admin-users user for the admin HTTP pages (srvr); --tls-*: a TLS client port (wss://, https://)
${helpText()}`;

interface Args {
  server: string;
  timeoutMs: number;
  command: string[];
  access: PageAccess;
}

/** A PEM file named by a flag; a clear usage error when it cannot be read. */
function pemFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** --tls-ca/--tls-cert/--tls-key into the client's TlsOptions (null: plain ws:// and http://). */
function tlsOptions(files: Map<string, string>): TlsOptions | null {
  if (files.size === 0) return null;
  const cert = files.get('--tls-cert');
  const key = files.get('--tls-key');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const ca = files.get('--tls-ca');
  return {
    ...(ca !== undefined ? { ca: pemFile('--tls-ca', ca) } : {}),
    ...(cert !== undefined && key !== undefined ? { cert: pemFile('--tls-cert', cert), key: pemFile('--tls-key', key) } : {}),
  };
}

function parseArgs(argv: string[]): Args {
  let server = defaultServer;
  let timeoutMs = cliSessionTimeoutMs;
  let user: string | null = null;
  const tlsFiles = new Map<string, string>();
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-s' || a === '-server' || a === '--server') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs host:port[,host:port...]`);
      server = v;
    } else if (a === '-timeout' || a === '--timeout') {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${a} needs a number of milliseconds`);
      timeoutMs = Number(v);
    } else if (a === '--user') {
      const v = argv[++i];
      if (v === undefined || !/^[^:]+:/.test(v)) throw new UsageError(`${a} needs NAME:PASSWORD (an --admin-users user)`);
      user = v;
    } else if (a === '--tls-ca' || a === '--tls-cert' || a === '--tls-key') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a PEM file`);
      tlsFiles.set(a, v);
    } else break;
  }
  return { server, timeoutMs, command: argv.slice(i), access: { tls: tlsOptions(tlsFiles), user } };
}

function failure(io: CliIo, err: unknown): number {
  if (err instanceof UsageError) {
    io.stderr.write(err.message.endsWith('\n') ? err.message : err.message + '\n');
    return 2;
  }
  if (err instanceof ZookooperError) {
    io.stderr.write(formatError(err) + '\n');
    return 1;
  }
  throw err; // a bug: let it surface with its stack
}

/** One sentence for a failed connect: what went wrong and what to do. */
export function connectFailure(server: string, err: ZookooperError): string {
  const m = err.message;
  const why = /ECONNREFUSED/.test(m)
    ? 'connection refused'
    : /ENOTFOUND|EAI_AGAIN/.test(m)
      ? 'unknown host'
      : /EHOSTUNREACH|ENETUNREACH/.test(m)
        ? 'host unreachable'
        : err.code === 'CONNECTIONLOSS'
          ? 'no answer'
          : `${err.code}: ${m}`;
  return `zookooper cli: cannot connect to ${server} (${why}): start a server there (npx zookooper server) or point -s at one.`;
}

/** Resolves on SIGINT or when stdin ends, whichever first. */
function interrupted(io: CliIo): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      io.stdin.off('end', done);
      io.stdin.off('close', done);
      resolve();
    };
    process.once('SIGINT', done);
    io.stdin.once('end', done);
    io.stdin.once('close', done);
    io.stdin.resume(); // 'end' only comes while flowing
  });
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    return failure(io, e);
  }
  const [first] = args.command;
  if (first === 'help' || first === '-h' || first === '--help') {
    io.stdout.write(usage);
    return 0;
  }
  if (first === 'srvr') return runSrvr(args.server, io, args.access); // HTTP /stat of each server, no session
  if (first !== undefined && !Object.hasOwn(commands, first)) {
    io.stderr.write(`unknown command ${JSON.stringify(first)}\n${usage}`);
    return 2;
  }
  if (first !== undefined && wantsHelp(args.command)) {
    io.stdout.write(commandUsage(first));
    return 0;
  }
  try {
    checkCommand(args.command); // a mistyped command fails before it waits for a connection
  } catch (e) {
    return failure(io, e);
  }
  let zk: Client;
  try {
    zk = await connect(args.server, { sessionTimeoutMs: args.timeoutMs, ...(args.access.tls !== null ? { tls: args.access.tls } : {}) });
  } catch (e) {
    if (!(e instanceof ZookooperError)) throw e;
    io.stderr.write(connectFailure(args.server, e) + '\n');
    return 1;
  }
  try {
    if (first !== undefined) return await oneShot(zk, args.command, io);
    return await interactive(zk, args.server, io);
  } finally {
    await zk.close();
  }
}

async function oneShot(zk: Client, words: string[], io: CliIo): Promise<number> {
  const ctx: Context = { zk, out: io.stdout, interactive: false, untilInterrupted: () => interrupted(io) };
  try {
    await runCommand(ctx, words);
    return 0;
  } catch (e) {
    return failure(io, e);
  }
}

async function interactive(zk: Client, server: string, io: CliIo): Promise<number> {
  const rl = createInterface({ input: io.stdin, output: io.stdout, terminal: (io.stdout as { isTTY?: boolean }).isTTY === true });
  const ctx: Context = { zk, out: io.stdout, interactive: true, untilInterrupted: () => Promise.resolve() };
  let n = 0;
  const prompt = (): void => {
    rl.setPrompt(`[zk: ${server}(${zk.state.toUpperCase()}) ${n}] `);
    rl.prompt();
  };
  const onState = (s: string): void => {
    if (s !== 'closed') io.stdout.write(`\nWatchedEvent state:${s}\n`);
  };
  zk.on('state', onState);
  prompt();
  for await (const line of rl) {
    let words: string[];
    try {
      words = splitWords(line.trim());
    } catch (e) {
      io.stderr.write(`${(e as Error).message}\n`);
      prompt();
      continue;
    }
    const [name] = words;
    if (name === 'quit' || name === 'exit') break;
    if (name === 'help') io.stdout.write(helpText());
    else if (name !== undefined) {
      n++;
      try {
        await runCommand(ctx, words);
      } catch (e) {
        if (e instanceof UsageError || e instanceof ZookooperError) io.stderr.write((e instanceof UsageError ? e.message : formatError(e)).replace(/\n?$/, '\n'));
        else throw e;
      }
    }
    prompt();
  }
  rl.close();
  return 0;
}
