// The `zookooper` command: `server` starts a server, `cli` is the zkCli-like shell.
import { pino } from 'pino';
import { ConfigError, parseServerArgs, serverUsage } from '../common/config.js';

const usage = `usage:
  zookooper server [flags]      start a server (zookooper server --help for flags)
  zookooper cli [-s host:port[,host:port...]] [COMMAND ARGS...]`;

async function runServer(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serverUsage() + '\n');
    return 0;
  }
  let config;
  try {
    config = parseServerArgs(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`zookooper server: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { pid: process.pid } });
  for (const key of config.unknownKeys) logger.warn({ key }, 'zoo.cfg key not understood by zookooper: ignored');
  const { startServer } = await import('../server/main.js');
  let server;
  try {
    server = await startServer(config, logger);
  } catch (err) {
    logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
    logger.flush();
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
