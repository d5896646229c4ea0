// Every error path of `zookooper server` and `zookooper cli`, as a person at a terminal sees it
// (under a pseudo-terminal, util-linux `script`) and as a log collector does (stdout a pipe):
// one plain sentence saying what is wrong and what to do on a terminal, the JSON line otherwise,
// and a non-zero exit either way. `--help` of every subcommand answers without a server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commands } from '../../src/cli/commands.js';
import { binPath, tempDir } from '../helpers/server.js';

/** A deadline against a hang, not a speed figure. */
const runDeadlineMs = 60_000;
const hasScript = spawnSync('which', ['script'], { encoding: 'utf8' }).status === 0;

interface Run {
  status: number | null;
  out: string;
}

const shellQuote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

/** Runs `zookooper ARGS` with a terminal as its stdin/stdout/stderr; the terminal's text, \r dropped. */
function onTerminal(args: string[]): Run {
  const cmd = [process.execPath, binPath, ...args].map(shellQuote).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: runDeadlineMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, out: (r.stdout + r.stderr).replace(/\r/g, '') };
}

/** Runs `zookooper ARGS` with pipes (a log collector, a script). */
function piped(args: string[]): Run & { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', timeout: runDeadlineMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, out: r.stdout + r.stderr, stdout: r.stdout, stderr: r.stderr };
}

/** One line, no JSON, no stack trace: a sentence for a person. */
function assertSentence(r: Run, what: RegExp, todo: RegExp): void {
  const lines = r.out.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `one line, got:\n${r.out}`);
  assert.doesNotMatch(r.out, /^\s*\{/m, 'no JSON on a terminal');
  assert.doesNotMatch(r.out, /^\s+at /m, 'no stack trace');
  assert.match(lines[0]!, what);
  assert.match(lines[0]!, todo, 'says what to do');
  assert.notEqual(r.status, 0);
}

/** The JSON fatal line a log collector gets, with its stack. */
function assertJsonLine(r: { status: number | null; stdout: string }, message: RegExp): void {
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `a JSON line on stdout, got:\n${r.stdout}`);
  const rec = JSON.parse(line) as { level: number; msg: string; err?: { stack?: string } };
  assert.equal(rec.level, 60, 'fatal');
  assert.match(rec.msg, /^cannot start: /);
  assert.match(rec.msg, message);
  assert.ok(rec.err?.stack, 'the stack is kept for collectors');
  assert.notEqual(r.status, 0);
}

describe('zookooper server: fatal start-up errors', { skip: hasScript ? false : 'util-linux script(1) not installed' }, () => {
  let busy: Server;
  let busyPort = 0;
  let fileInTheWay = '';
  before(async () => {
    busy = createServer();
    await new Promise<void>((res) => busy.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => res()));
    busyPort = (busy.address() as { port: number }).port;
    fileInTheWay = join(tempDir(), 'a-file');
    writeFileSync(fileInTheWay, 'not a directory');
  });
  after(async () => {
    await new Promise<void>((res) => busy.close(() => res()));
  });

  const cases = (): { name: string; args: string[]; what: RegExp; todo: RegExp; json: RegExp; status: number }[] => [
    { name: 'a busy port', args: ['--port', String(busyPort), '--data-dir', tempDir()], what: /already in use/, todo: /--port/, json: /already in use/, status: 1 },
    { name: 'a data dir that is a file', args: ['--port', '0', '--data-dir', join(fileInTheWay, 'data')], what: /cannot use .*a-file/, todo: /--data-dir/, json: /ENOTDIR/, status: 1 },
    { name: 'a host not of this machine', args: ['--host', '192.0.2.1', '--port', '0', '--data-dir', tempDir()], what: /cannot listen on 192\.0\.2\.1/, todo: /--host/, json: /EADDRNOTAVAIL/, status: 1 },
    { name: 'an unknown flag', args: ['--bogus'], what: /unknown flag --bogus/, todo: /--help/, json: /bogus/, status: 2 },
    { name: 'a bad flag value', args: ['--port', 'abc'], what: /--port: expected an integer/, todo: /--help/, json: /--port/, status: 2 },
    { name: 'a missing flag value', args: ['--port'], what: /--port needs a value/, todo: /--help/, json: /--port needs a value/, status: 2 },
    { name: 'an unreadable --config', args: ['--config', join(fileInTheWay, 'zoo.cfg')], what: /--config: cannot read/, todo: /--help/, json: /--config/, status: 2 },
    { name: 'an unknown --log-level', args: ['--log-level', 'loud'], what: /--log-level: unknown level "loud" \(one of .*info/, todo: /--help/, json: /--log-level/, status: 2 },
    { name: 'a bad --log-format', args: ['--log-format', 'xml'], what: /--log-format needs json or pretty/, todo: /--help/, json: /--log-format/, status: 2 },
  ];

  test('on a terminal: one sentence saying what is wrong and what to do, non-zero exit', () => {
    for (const c of cases()) {
      const r = onTerminal(['server', ...c.args]);
      assertSentence(r, c.what, c.todo);
      assert.equal(r.status, c.status, `${c.name}: ${r.out}`);
      assert.match(r.out, /^zookooper server: /, c.name);
    }
  });

  test('stdout not a terminal: the JSON line with its stack, non-zero exit', () => {
    for (const c of cases()) {
      const r = piped(['server', ...c.args]);
      assertJsonLine(r, c.json);
      assert.equal(r.status, c.status, `${c.name}: ${r.out}`);
    }
  });

  test('--log-format json on a terminal: the JSON line', () => {
    const r = onTerminal(['server', '--log-format', 'json', '--port', String(busyPort), '--data-dir', tempDir()]);
    assertJsonLine({ status: r.status, stdout: r.out }, /already in use/);
  });

  test('--help answers with the flags, exit 0, on a terminal and not', () => {
    for (const r of [onTerminal(['server', '--help']), piped(['server', '--help'])]) {
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /^zookooper server \[--config zoo\.cfg\]/m);
      assert.match(r.out, /--log-format json\|pretty/);
    }
  });
});

describe('zookooper and zookooper cli: errors and help', { skip: hasScript ? false : 'util-linux script(1) not installed' }, () => {
  // Port 1 on loopback: nothing listens there (connection refused), and no traffic leaves the host.
  const nowhere = ['-s', '127.0.0.1:1', '-timeout', '2000'];

  test('no server: one sentence saying so and what to do, exit 1', () => {
    for (const r of [onTerminal(['cli', ...nowhere, 'ls', '/']), piped(['cli', ...nowhere, 'ls', '/'])]) {
      assertSentence(r, /^zookooper cli: cannot connect to 127\.0\.0\.1:1 \(connection refused\)/, /start a server .* or point -s at one/);
      assert.equal(r.status, 1);
    }
  });

  test('mistyped commands fail before connecting (usage, exit 2)', () => {
    const cases: [string[], RegExp][] = [
      [['get'], /^usage: get \[-s\] \[-w\] PATH$/m],
      [['get', '-x', '/a'], /get: unknown option -x/],
      [['set', '/a', 'x', '-v'], /set: -v needs a value/],
      [['create', '-e', '-t', '5', '/a'], /create: -e cannot be combined with -t/],
      [['bogus'], /unknown command "bogus"/],
      [['-timeout'], /-timeout needs a number of milliseconds/],
    ];
    for (const [args, re] of cases) {
      const r = onTerminal(['cli', ...nowhere, ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.out}`);
      assert.match(r.out, re);
      assert.doesNotMatch(r.out, /cannot connect|^\s+at /m, 'the command line was checked first');
    }
  });

  test('COMMAND --help for every cli command: its usage, exit 0, no server needed', () => {
    for (const [name, spec] of Object.entries(commands)) {
      for (const flag of ['--help', '-h']) {
        const r = piped(['cli', ...nowhere, name, flag]);
        assert.equal(r.status, 0, `${name} ${flag}: ${r.out}`);
        assert.equal(r.stdout, `usage: ${spec.usage}\n`);
      }
    }
    const help = onTerminal(['cli', 'help']);
    assert.equal(help.status, 0);
    assert.match(help.out, /register PATH \[DATA\]/);
  });

  test('zookooper without a command, with help, with an unknown one', () => {
    const none = onTerminal([]);
    assert.equal(none.status, 2);
    assert.match(none.out, /^usage:/);
    const help = piped(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /zookooper server \[flags\]/);
    const bad = onTerminal(['serve']);
    assert.equal(bad.status, 2);
    assert.match(bad.out, /^zookooper: unknown command "serve"/m);
  });
});
