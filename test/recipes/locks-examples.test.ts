// The runnable examples (examples/lock.ts, examples/leader-election.ts) against a real server:
// each must exit by itself with status 0 and print what its comments promise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot, startServer, type TestServer } from '../helpers/server.js';
import { lockTestTickMs } from './locks-helpers.js';

const exampleTimeoutMs = 30_000;

function runExample(name: string, connectString: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'examples', `${name}.js`), connectString], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((res) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), exampleTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, out });
    });
  });
}

describe('lock examples', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ workers: 2, tickMs: lockTestTickMs });
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('examples/lock.ts', async () => {
    const { code, out } = await runExample('lock', server.connectString);
    assert.equal(code, 0, out);
    assert.match(out, /final counter: 15 \(expected 15\)/);
    assert.match(out, /other worker got the held lock within 200 ms: false/);
  });

  test('examples/leader-election.ts', async () => {
    const { code, out } = await runExample('leader-election', server.connectString);
    assert.equal(code, 0, out);
    for (const n of ['alpha', 'beta', 'gamma']) assert.match(out, new RegExp(`latch: ${n} leads`));
    assert.match(out, /selector turns: alpha=\d+ beta=\d+ gamma=\d+/);
  });
});
