// The data-recipe examples run as separate processes against a real server: each exits by itself
// with status 0 and prints what its docs say it prints.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot, startServer, type TestServer } from '../helpers/server.js';

interface Run {
  code: number | null;
  out: string;
}

/** Runs a compiled example; killed (and failed) if it does not exit within `timeoutMs`. */
function runExample(name: string, connectString: string, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'examples', `${name}.js`), connectString], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not exit within ${timeoutMs} ms; output:\n${out}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('data recipes: examples', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ workers: 2, tickMs: 100 });
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('examples/config-watch.ts', async () => {
    const r = await runExample('config-watch', server.connectString);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /initial \(node missing\): \{"poolSize":1,"featureFlags":\[\]\}/);
    assert.match(r.out, /change v0: \{"poolSize":4,"featureFlags":\["a"\]\}/);
    assert.match(r.out, /rejected update, kept \{"poolSize":4,"featureFlags":\["a"\]\}/);
    assert.match(r.out, /change v2: \{"poolSize":8,"featureFlags":\["a","b"\]\}/);
    assert.match(r.out, /change v-1: \{"poolSize":1,"featureFlags":\[\]\}/);
    assert.match(r.out, /final: \{"poolSize":1,"featureFlags":\[\]\}/);
  });

  test('examples/tree-cache.ts', async () => {
    const r = await runExample('tree-cache', server.connectString);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /initialized with 3 nodes; users: alice/);
    assert.match(r.out, /created \/users\/bob = "viewer"/);
    assert.match(r.out, /changed \/users\/alice = "owner"/);
    assert.match(r.out, /deleted \/users\/bob = "viewer"/);
    assert.match(r.out, /alice is owner/);
    assert.doesNotMatch(r.out, /error/i);
  });
});
