// The `zookooper` command: `server` starts a server, `cli` is the zkCli-like shell.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { ConfigError, parseServerArgs, serverUsage } from '../common/config.js';
import { explainStartupError, takeLogFormat, type LogFormat } from './startup-errors.js';

const usage = `usage:
  zookooper server [flags]      start a server (zookooper server --help for flags)
  zookooper cli [-s host:port[,host:port...]] [COMMAND ARGS...]
  zookooper ensemble [--size 3] [--observers 0] [--base-port 2181]   a local ensemble (--help)`;

const logFormatHelp = `                 [--log-format json|pretty]   (default: pretty on a terminal, else one JSON line per event)`;

/** A fatal start-up error: one sentence on a terminal, the JSON line (with its stack) for collectors. */
function startupFailure(format: LogFormat, err: unknown, logger: Logger | null, where: Parameters<typeof explainStartupError>[1]): void {
  if (format === 'pretty') {
    process.stderr.write(`zookooper server: ${explainStartupError(err, where)}\n`);
    return;
  }
  const log = logger ?? pino({ base: { pid: process.pid } });
  log.fatal({ err }, `cannot start: ${(err as Error).message}`);
  log.flush();
}

function makeLogger(format: LogFormat, level: string): Logger {
  const options = { level, base: { pid: process.pid } };
  if (format === 'json') return pino(options);
  // Synchronous: a fatal line must be out before the process exits.
  return pino(options, pretty({ sync: true, colorize: process.stdout.isTTY === true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l', singleLine: true }));
}

async function runServer(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serverUsage() + '\n' + logFormatHelp + '\n');
    return 0;
  }
  let format: LogFormat = process.stdout.isTTY === true ? 'pretty' : 'json';
  let config;
  try {
    const taken = takeLogFormat(argv, process.stdout.isTTY === true);
    format = taken.format;
    config = parseServerArgs(taken.rest);
  } catch (err) {
    if (err instanceof ConfigError) {
      startupFailure(format, err, null, {});
      return 2;
    }
    throw err;
  }
  if (config.logLevel !== 'silent' && !Object.hasOwn(pino.levels.values, config.logLevel)) {
    const levels = Object.keys(pino.levels.values).join(', ');
    startupFailure(format, new ConfigError(`--log-level: unknown level ${JSON.stringify(config.logLevel)} (one of ${levels}, silent)`), null, {});
    return 2;
  }
  const logger = makeLogger(format, config.logLevel);
  for (const key of config.unknownKeys) logger.warn({ key }, 'zoo.cfg key not understood by zookooper: ignored');
  for (const warning of config.warnings) logger.warn({ serverId: config.serverId }, warning);
  const { startServer } = await import('../server/main.js');
  let server;
  try {
    server = await startServer(config, logger);
  } catch (err) {
    startupFailure(format, err, logger, { host: config.host, port: config.port, dataDir: config.dataDir });
    return 1;
  }
  let exitCode = 0;
  const onSignal = (signal: string): void => {
    logger.info({ signal }, 'stopping');
    server.stop().then(
      () => {
        logger.flush();
        process.exit(exitCode);
      },
      (err: unknown) => {
        logger.fatal({ err }, 'error while stopping');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  try {
    await server.done;
  } catch {
    exitCode = 1;
    logger.flush();
    process.exit(1);
  }
  return new Promise<number>(() => {}); // the signal handler exits
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return runServer(rest);
    case 'ensemble':
      return (await import('./ensemble.js')).runEnsemble(rest, { stdout: process.stdout, stderr: process.stderr });
    case 'cli': {
      const { runCli } = await import('./zkcli.js');
      const code = await runCli(rest, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
      // An open stdin pipe (a test, `cmd | zookooper cli ...`) would keep a finished command alive.
      process.stdin.destroy();
      return code;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(usage + '\n');
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`zookooper: unknown command ${JSON.stringify(command)}\n${usage}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`zookooper: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
