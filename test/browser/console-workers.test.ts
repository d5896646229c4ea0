// The console's Sessions & watches view in a real headless chromium against a real server process
// with two session workers: sessions connected to either worker are listed with their worker,
// their ephemerals and their watches; watches per path are counted across both workers.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { connect, type ZookooperClient } from '../../src/index.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { artifactsDir, launchChromium } from './chromium.js';

const digestId = (user: string, password: string): string => `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
const hex = (id: bigint): string => '0x' + id.toString(16);
const authorization = `Basic ${Buffer.from('admin:s3cret').toString('base64')}`;
/** Clients connected before both workers hold one: far above what an even spread needs. */
const connectAttemptsMax = 40;

describe('console Sessions & watches view over two workers', () => {
  let server: TestServer;
  let browser: BrowserContext;
  let userDataDir = '';
  let page: Page;
  const clients: ZookooperClient[] = [];
  const workerOf = new Map<string, number>();
  const dataDir = tempDir('zk-console-workers-');

  before(async () => {
    mkdirSync(join(artifactsDir, 'console'), { recursive: true });
    writeFileSync(join(dataDir, 'admins'), `${digestId('admin', 's3cret')}\n`);
    server = await startServer({ workers: 2, args: ['--admin-users', join(dataDir, 'admins')] });
    const setup = await connect(server.connectString);
    await setup.create('/xw', '');
    await setup.create('/xw/watched', '');
    await setup.close();
    for (let i = 0; i < connectAttemptsMax; i++) {
      const zk = await connect(server.connectString, { sessionTimeoutMs: 10_000 });
      clients.push(zk);
      const res = await fetch(`http://127.0.0.1:${server.port}/cons`, { headers: { authorization } });
      const cons = (await res.json()) as { connections: { sessionId: string; workerId: number }[] };
      const mine = cons.connections.find((c) => c.sessionId === hex(zk.sessionId));
      assert.ok(mine, `session ${hex(zk.sessionId)} in /cons`);
      workerOf.set(mine.sessionId, mine.workerId);
      if (new Set(workerOf.values()).size === 2) break;
    }
    assert.equal(new Set(workerOf.values()).size, 2, `connections spread over both workers: ${JSON.stringify([...workerOf])}`);
    for (const [i, zk] of clients.entries()) await zk.create(`/xw/e-${i}`, '', { mode: 'ephemeral' });
    for (const zk of clients) await zk.getData('/xw/watched', { watch: () => {} });
    ({ browser, userDataDir } = await launchChromium());
    page = await browser.newPage();
  });

  after(async () => {
    for (const zk of clients) await zk.close().catch(() => {});
    await browser?.close();
    await server?.stop();
    server?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('asks for admin credentials, then lists the sessions of both workers with their ephemerals and the watches per path', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${server.port}/ui/#sessions`);
    await page.waitForSelector('#conn-state.connected', { timeout: 20_000 });
    await page.locator('#sessions-summary.error', { hasText: 'not signed in' }).waitFor({ timeout: 10_000 });
    await page.fill('#user', 'admin');
    await page.fill('#password', 's3cret');
    await page.click('#login button');
    await page.locator('#mode', { hasText: 'admin: admin' }).waitFor();
    await page.click('#sessions-refresh');
    for (const [i, zk] of clients.entries()) {
      const sid = hex(zk.sessionId);
      const row = page.locator(`#sessions-table tr[data-session="${sid}"]`);
      await row.waitFor({ timeout: 10_000 });
      assert.equal(await row.getAttribute('data-worker'), String(workerOf.get(sid)), `${sid}'s worker`);
      const cells = await row.locator('td').allInnerTexts();
      assert.equal(cells[4], '1', `${sid} watches`);
      assert.equal(cells[5], `/xw/e-${i}`, `${sid} ephemerals`);
    }
    const workersShown = new Set(await page.locator('#sessions-table tr[data-session]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-worker'))));
    assert.ok(workersShown.has('0') && workersShown.has('1'), `sessions of both workers: ${[...workersShown].join()}`);
    const watched = page.locator('#watches-table tr[data-path="/xw/watched"]');
    await watched.waitFor({ timeout: 10_000 });
    const cells = await watched.locator('td').allInnerTexts();
    assert.equal(cells[1], String(clients.length));
    for (const [sid, workerId] of workerOf) assert.ok(cells[2]!.includes(`${sid} · worker ${workerId} · data`), cells[2]);
    assert.equal(await page.locator('#view-sessions .gaps').count(), 0, 'every worker answered, nothing cut');
    await page.screenshot({ path: join(artifactsDir, 'console', 'sessions-watches.png') });
    assert.deepEqual(errors, []);
  });
});
