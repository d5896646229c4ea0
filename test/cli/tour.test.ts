// The README's five-minute tour, run as written against a real server: every `sh tour` block's
// commands in order, each terminal a set of real `zookooper` processes, every printed line checked.
// The README is the script (see the comment above its tour for the grammar), so the tour cannot
// drift from what the commands do: change one without the other and this fails.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { splitWords } from '../../src/cli/format.js';
import { binPath, eventually, repoRoot, startServer, type TestServer } from '../helpers/server.js';

/** A deadline against a hang, never a speed figure. */
const stepDeadlineMs = 60_000;

type Step =
  | { terminal: string; kind: 'run'; line: string; words: string[]; expected: string[]; staysUp: boolean }
  | { terminal: string; kind: 'output'; expected: string[] }
  | { terminal: string; kind: 'interrupt'; expected: string[] };

interface Block {
  info: string[];
  lines: string[];
}

/** The fenced code blocks of a markdown text whose info string starts with `lang`. */
export function fencedBlocks(markdown: string, lang: string): Block[] {
  const out: Block[] = [];
  const re = /^```([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = re.exec(markdown); m !== null; m = re.exec(markdown)) {
    const info = m[1]!.trim().split(/\s+/);
    if (info[0] === lang) out.push({ info: info.slice(1), lines: m[2]!.replace(/\n$/, '').split('\n') });
  }
  return out;
}

/** A command line without its trailing `# comment`, split as a shell would (quotes group). */
function commandWords(line: string): string[] {
  return splitWords(line.replace(/\s+#\s.*$/, '').trim());
}

/** The tour's steps: `sh tour terminal=NAME` blocks in README order (`norun` ones left out). */
export function tourSteps(markdown: string): Step[] {
  const steps: Step[] = [];
  for (const block of fencedBlocks(markdown, 'sh')) {
    if (block.info[0] !== 'tour' || block.info.includes('norun')) continue;
    const terminal = block.info.find((w) => w.startsWith('terminal='))?.slice('terminal='.length);
    assert.ok(terminal, `a tour block needs terminal=NAME (or norun): ${block.lines[0]}`);
    let current: Step | null = null;
    for (const line of block.lines) {
      if (line.startsWith('$ ')) {
        current = { terminal, kind: 'run', line: line.slice(2), words: commandWords(line.slice(2)), expected: [], staysUp: false };
        steps.push(current);
      } else if (line === '^C') {
        current = { terminal, kind: 'interrupt', expected: [] };
        steps.push(current);
      } else {
        if (current === null) {
          current = { terminal, kind: 'output', expected: [] };
          steps.push(current);
        }
        current.expected.push(line);
      }
    }
  }
  // A command stays up when its terminal's next step is more of its output or a Ctrl-C.
  steps.forEach((s, i) => {
    if (s.kind !== 'run') return;
    const next = steps.slice(i + 1).find((n) => n.terminal === s.terminal);
    s.staysUp = next !== undefined && next.kind !== 'run';
  });
  return steps;
}

/** One terminal of the tour: the process it runs now and every line it printed. */
class Terminal {
  child: ChildProcess | null = null;
  command = '';
  out: string[] = [];
  err = '';
  read = 0;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: 0, signal: null });
  done = true;

  start(args: string[], line: string): void {
    this.command = line;
    this.out = [];
    this.err = '';
    this.read = 0;
    this.done = false;
    // stdin stays open: one-shot `watch`/`register` end on Ctrl-C or end of input.
    const child = spawn(process.execPath, [binPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let partial = '';
    child.stdout!.on('data', (b: Buffer) => {
      const parts = (partial + b.toString()).split('\n');
      partial = parts.pop()!;
      this.out.push(...parts);
    });
    child.stderr!.on('data', (b: Buffer) => (this.err += b.toString()));
    this.exited = new Promise((res) =>
      child.once('close', (code, signal) => {
        if (partial !== '') this.out.push(partial);
        this.done = true;
        res({ code, signal });
      }),
    );
  }

  /** The next `n` lines, once printed. */
  async next(n: number): Promise<string[]> {
    await eventually(() => this.out.length >= this.read + n || this.done, stepDeadlineMs, `${n} more lines from \`${this.command}\``);
    const got = this.out.slice(this.read, this.read + n);
    this.read += got.length;
    return got;
  }

  describe(): string {
    return `\`${this.command}\` printed:\n${this.out.join('\n')}\nstderr:\n${this.err}`;
  }
}

/** `npx zookooper ...` as the test runs it: the built bin, the test server for `cli`. */
function argsFor(words: string[], connectString: string): string[] {
  assert.deepEqual(words.slice(0, 2), ['npx', 'zookooper'], `the tour test runs only \`npx zookooper ...\` (mark other blocks norun): ${words.join(' ')}`);
  const args = words.slice(2);
  return args[0] === 'cli' ? ['cli', '-s', connectString, ...args.slice(1)] : args;
}

async function runStep(step: Step, term: Terminal, connectString: string): Promise<void> {
  if (step.kind === 'run') {
    assert.ok(term.done, `terminal ${step.terminal} still runs \`${term.command}\` when the tour types \`${step.line}\``);
    term.start(argsFor(step.words, connectString), step.line);
    if (!step.staysUp) {
      const exit = await term.exited;
      assert.deepEqual(term.out.slice(term.read), step.expected, term.describe());
      assert.deepEqual(exit, { code: 0, signal: null }, term.describe());
      assert.equal(term.err, '', term.describe());
      return;
    }
  }
  if (step.kind === 'interrupt') {
    assert.ok(!term.done && term.child, `^C in terminal ${step.terminal}, where nothing runs`);
    term.child.kill('SIGINT');
    const exit = await term.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, `after Ctrl-C: ${term.describe()}`);
    assert.deepEqual(term.out.slice(term.read), step.expected, term.describe());
    assert.equal(term.err, '', term.describe());
    return;
  }
  assert.deepEqual(await term.next(step.expected.length), step.expected, term.describe());
  assert.equal(term.done, false, `\`${term.command}\` should stay up, but exited: ${term.describe()}`);
}

describe('the README tour', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  let server: TestServer;
  const terminals = new Map<string, Terminal>();
  before(async () => {
    server = await startServer({ workers: 1 });
  });
  after(async () => {
    for (const t of terminals.values()) {
      if (!t.done && t.child) t.child.kill('SIGKILL');
      await t.exited;
    }
    await server?.stop();
    server?.cleanup();
  });

  test('the grammar: commands, their output, commands that stay up, Ctrl-C, norun blocks', () => {
    const md = ['```sh tour terminal=a', '$ npx zookooper cli watch /x   # until Ctrl-C', 'watching', '```', '```sh tour terminal=b', '$ npx zookooper cli ls /', '[x]', '```',
      '```sh tour norun', '$ npx zookooper ensemble', '```', '```sh tour terminal=a', 'event', '^C', '```', '```sh', '$ rm -rf /', '```'].join('\n');
    const steps = tourSteps(md);
    assert.deepEqual(steps.map((s) => [s.terminal, s.kind, s.expected]), [['a', 'run', ['watching']], ['b', 'run', ['[x]']], ['a', 'output', ['event']], ['a', 'interrupt', []]]);
    const [watch, ls] = steps;
    assert.ok(watch?.kind === 'run' && ls?.kind === 'run');
    assert.deepEqual([watch.words, watch.staysUp], [['npx', 'zookooper', 'cli', 'watch', '/x'], true]);
    assert.equal(ls.staysUp, false);
  });

  test('every command of the tour prints what the README says, in order', async (t) => {
    const steps = tourSteps(readme);
    assert.ok(steps.filter((s) => s.kind === 'run').length >= 5, 'the README has a tour');
    for (const step of steps) {
      let term = terminals.get(step.terminal);
      if (term === undefined) terminals.set(step.terminal, (term = new Terminal()));
      t.diagnostic(`terminal ${step.terminal}: ${step.kind === 'run' ? '$ ' + step.line : step.kind === 'interrupt' ? '^C' : step.expected.join(' | ')}`);
      await runStep(step, term, server.connectString);
    }
    for (const [name, term] of terminals) assert.ok(term.done, `the tour leaves terminal ${name} running \`${term.command}\``);
  });

  test('the set-up commands exist: npm start and npm test are scripts of package.json', () => {
    const setUp = fencedBlocks(readme, 'sh')[0];
    assert.ok(setUp, 'a set-up block');
    const commands = setUp.lines.map((l) => l.replace(/\s+#\s.*$/, '').trim());
    assert.deepEqual(commands, ['npm install && npm start', 'npm test']);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts.start ?? '', /bin\/zookooper\.js server/);
    assert.match(pkg.scripts.test ?? '', /scripts\/run-tests\.mjs/);
  });
});
