// The runnable example (examples/service-discovery.ts) against a real server, as a user runs it:
// a child process that must exit 0 by itself and print what it promises.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot, startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startServer({ workers: 1 });
});
after(async () => {
  await server?.stop();
  server?.cleanup();
});

test('examples/service-discovery runs and exits cleanly', async () => {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'examples', 'service-discovery.js'), server.connectString], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), 20_000); // bounded: a hang fails
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  assert.equal(code, 0, `exit ${code}\nstdout:\n${out}\nstderr:\n${err}`);
  assert.equal(err, '');
  for (const id of ['greeter-1', 'greeter-2', 'greeter-3']) assert.match(out, new RegExp(`^added ${id} at 127\\.0\\.0\\.1:900\\d$`, 'm'));
  assert.match(out, /^services: greeter$/m);
  assert.match(out, /^greeter +greeter-3 +127\.0\.0\.1:9003 +us +1 +20 +yes$/m);
  assert.match(out, /^round-robin: greeter-1 greeter-2 greeter-3 greeter-1$/m);
  const shares = /^load-aware, 1000 picks: greeter-1=(\d+) greeter-2=(\d+) greeter-3=(\d+)$/m.exec(out);
  assert.ok(shares, out);
  const [a, b, c] = shares.slice(1).map(Number) as [number, number, number];
  assert.ok(a > b && b > c, `less-loaded get more: ${a} ${b} ${c}`);
  assert.match(out, /^after disabling greeter-1, a call went to: greeter-[23]$/m);
  assert.match(out, /^done$/m);
});
