// The console at /ui in real headless browsers (Debian's chromium and firefox-esr) against a real
// server process.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { connect, InterProcessMutex, Perms, type ZookooperClient } from '../../src/index.js';
import { eventually, repoRoot, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { artifactsDir, browserKinds, launchBrowser } from './launch.js';

/** A service instance registered by another process (so killing it by PID ends its session). */
function registerInOtherProcess(connectString: string, id: string): Promise<ChildProcess> {
  const script = `
    import { connect, ServiceRegistry } from ${JSON.stringify(join(repoRoot, 'dist/src/index.js'))};
    const zk = await connect(${JSON.stringify(connectString)}, { sessionTimeoutMs: 2000 });
    const reg = new ServiceRegistry(zk);
    await reg.register({ name: 'web', id: ${JSON.stringify(id)}, address: '10.1.2.3', port: 8080, zone: 'eu-1', weight: 3, payload: { load: 7 } });
    console.log('registered');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => b.toString().includes('registered') && resolve(child));
    child.once('exit', (code) => reject(new Error(`registering process exited ${code}`)));
  });
}

function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

for (const kind of browserKinds) {
  describe(`console at /ui in ${kind}`, () => {
    let server: TestServer;
    let browser: BrowserContext;
    let userDataDir: string;
    let zk: ZookooperClient;
    let page: Page;
    const dataDir = tempDir('zk-console-');
    const shots = join(artifactsDir, kind === 'chromium' ? 'console' : `console-${kind}`);

    before(async () => {
      mkdirSync(shots, { recursive: true });
      server = await startServer({ dataDir, workers: 1 });
      ({ browser, userDataDir } = await launchBrowser(kind));
      zk = await connect(server.connectString);
      page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${server.port}/ui/`);
      await page.waitForSelector('#conn-state.connected', { timeout: 20_000 });
      assert.deepEqual(errors, []);
    });

    after(async () => {
      await zk?.close().catch(() => {});
      await browser?.close();
      server?.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    it('shows a service instance registered from another process, and removes it when that process is killed', async () => {
      const child = await registerInOtherProcess(server.connectString, 'web-1');
      const row = page.locator('#services-table tr[data-path="/services/web/web-1"]');
      await row.waitFor({ timeout: 10_000 });
      const cells = await row.locator('td').allInnerTexts();
      assert.deepEqual(cells.slice(0, 8), ['web', 'web-1', '10.1.2.3', '8080', 'eu-1', '3', 'yes', '7']);
      await page.screenshot({ path: join(shots, 'services.png') });
      process.kill(child.pid!, 'SIGKILL');
      await row.waitFor({ state: 'detached', timeout: 20_000 }); // the session expires (2 s) and the node goes
    });

    it('is read-only without admin credentials, and shows NOAUTH for a node the session may not write', async () => {
      await zk.create('/guarded', 'v0', { acl: [{ perms: Perms.ALL, scheme: 'digest', id: digestId('admin', 's3cret') }, { perms: Perms.READ, scheme: 'world', id: 'anyone' }] });
      await page.keyboard.press('2');
      assert.match(await page.locator('#mode').innerText(), /read-only/);
      await page.locator('#tree-list button.node', { hasText: 'guarded' }).click();
      await page.locator('#node-data', { hasText: 'v0' }).waitFor();
      assert.equal(await page.locator('#node-save').isVisible(), false, 'no save control in read-only mode');
      // Credentials of another user: the writes show, and the server refuses them.
      await page.fill('#user', 'intruder');
      await page.fill('#password', 'guess');
      await page.click('#login button');
      await page.locator('#mode', { hasText: 'admin: intruder' }).waitFor();
      await page.locator('#node-save').click();
      await page.locator('#status.error', { hasText: 'NOAUTH' }).waitFor();
      assert.equal((await zk.getData('/guarded')).data.toString(), 'v0');
    });

    it('edits with the version it read: a change made meanwhile is answered BADVERSION, not overwritten', async () => {
      await zk.create('/cfg', 'one');
      await page.reload();
      await page.waitForSelector('#conn-state.connected', { timeout: 20_000 });
      await page.keyboard.press('2');
      await page.fill('#user', 'admin');
      await page.fill('#password', 's3cret');
      await page.click('#login button');
      await page.locator('#mode', { hasText: 'admin: admin' }).waitFor();
      await page.locator('#tree-list button.node', { hasText: 'cfg' }).click();
      await page.locator('#node-data', { hasText: 'one' }).waitFor();
      await zk.setData('/cfg', 'two'); // someone else, after the console read version 0
      await page.locator('#node-notice', { hasText: 'changed on the server' }).waitFor();
      await page.fill('#node-editor', 'three');
      await page.locator('#node-save').click();
      await page.locator('#status.error', { hasText: 'BADVERSION' }).waitFor();
      // The status bar stays on a laptop-sized screen (1280x800) however long the node's view is.
      const box = await page.locator('#status').boundingBox();
      assert.ok(box !== null && box.y >= 0 && box.y + box.height <= page.viewportSize()!.height, `the status bar is in view: ${JSON.stringify(box)}`);
      await page.screenshot({ path: join(shots, 'badversion.png') });
      assert.equal((await zk.getData('/cfg')).data.toString(), 'two');
    });

    it('deletes a subtree after a confirmation, and the tree shows it gone without an error', async () => {
      await zk.create('/doomed', '');
      await zk.create('/doomed/x', '');
      await zk.create('/doomed/x/y', '');
      await page.locator('#tree-list li[data-path="/doomed"]').waitFor({ timeout: 10_000 }); // the root's child watch
      await page.locator('#tree-list button[aria-label="expand /doomed"]').click();
      await page.locator('#tree-list li[data-path="/doomed/x"]').waitFor(); // open, so /doomed has a child watch
      await page.locator('#tree-list button.node', { hasText: 'doomed' }).click();
      let question = '';
      page.once('dialog', (d) => {
        question = d.message();
        void d.accept();
      });
      await page.locator('#node-detail button', { hasText: 'delete recursively' }).click();
      await page.locator('#status', { hasText: 'deleted /doomed' }).waitFor({ timeout: 10_000 });
      assert.equal(question, 'Delete /doomed and everything under it?');
      assert.equal(await zk.exists('/doomed'), null);
      await page.locator('#tree-list li[data-path="/doomed"]').waitFor({ state: 'detached', timeout: 10_000 });
      // Selecting / sends its reads after the re-reads the deletes' watches caused (one session,
      // answered in order), so once / is shown those re-reads have been answered too.
      await page.locator('#tree-list button.node', { hasText: /^\/$/ }).click();
      await page.locator('#node-detail h3', { hasText: /^\/$/ }).waitFor();
      assert.equal(await page.locator('#status').innerText(), 'deleted /doomed', 'no NONODE from the open node that went');
    });

    it('keeps working across a server restart: reconnects and shows new instances', async () => {
      await page.keyboard.press('1');
      const port = server.port;
      await server.stop();
      await page.locator('#conn-state.disconnected').waitFor({ timeout: 20_000 });
      server = await startServer({ dataDir, workers: 1, port });
      await page.locator('#conn-state.connected').waitFor({ timeout: 30_000 });
      await zk.close().catch(() => {});
      zk = await connect(server.connectString);
      const child = await registerInOtherProcess(server.connectString, 'web-2');
      try {
        const row = page.locator('#services-table tr[data-path="/services/web/web-2"]');
        await row.waitFor({ timeout: 10_000 });
        await page.screenshot({ path: join(shots, 'after-restart.png') });
        // Disable it from the console (signed in): the instance JSON is rewritten with enabled false.
        await page.fill('#user', 'admin');
        await page.fill('#password', 's3cret');
        await page.click('#login button');
        await row.locator('button', { hasText: 'disable' }).click();
        await eventually(async () => JSON.parse((await zk.getData('/services/web/web-2')).data.toString()).enabled === false, 10_000, 'instance disabled');
        await row.locator('td', { hasText: /^no$/ }).waitFor({ timeout: 10_000 });
      } finally {
        process.kill(child.pid!, 'SIGKILL');
      }
      await eventually(async () => (await zk.exists('/services/web/web-2')) === null, 20_000, 'instance gone after its process was killed');
    });

    it('shows who holds a lock and the server role', async () => {
      const mutex = new InterProcessMutex(zk, '/locks/orders');
      await mutex.acquire();
      try {
        await page.keyboard.press('3');
        await page.fill('#recipe-path', '/locks/orders');
        await page.press('#recipe-path', 'Enter');
        const holder = page.locator('#locks-list li.holder');
        await holder.waitFor({ timeout: 10_000 });
        assert.match(await holder.innerText(), new RegExp(`holds: .*session 0x${zk.sessionId.toString(16)}`));
        await page.locator('#sessions-list td', { hasText: `0x${zk.sessionId.toString(16)}` }).waitFor();
      } finally {
        await mutex.release();
      }
      await page.locator('#locks-list', { hasText: 'free' }).waitFor({ timeout: 10_000 });
      await page.keyboard.press('Escape'); // out of the path field, so the view keys work
      await page.keyboard.press('4');
      await page.locator('#server-facts', { hasText: 'standalone' }).waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(shots, 'server.png') });
    });
  });

  describe(`console with --admin-users in ${kind}: the Server view reads /mntr as the signed-in admin`, () => {
    let server: TestServer;
    let browser: BrowserContext;
    let userDataDir: string;
    const dataDir = tempDir('zk-console-admin-');

    before(async () => {
      const users = join(dataDir, 'admins');
      writeFileSync(users, `${digestId('admin', 's3cret')}\n`);
      server = await startServer({ workers: 1, args: ['--admin-users', users] });
      ({ browser, userDataDir } = await launchBrowser(kind));
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
      server?.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    it('says it is not signed in, then shows the role once the admin signs in; another user is told it is not an admin', async () => {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${server.port}/ui/#server`);
      await page.waitForSelector('#conn-state.connected', { timeout: 20_000 });
      await page.locator('#server-facts', { hasText: 'not signed in' }).waitFor({ timeout: 10_000 });
      await page.fill('#user', 'admin');
      await page.fill('#password', 's3cret');
      await page.click('#login button');
      await page.locator('#server-facts', { hasText: 'standalone' }).waitFor({ timeout: 10_000 });
      const other = await browser.newPage();
      await other.goto(`http://127.0.0.1:${server.port}/ui/#server`);
      await other.waitForSelector('#conn-state.connected', { timeout: 20_000 });
      await other.fill('#user', 'intruder');
      await other.fill('#password', 'guess');
      await other.click('#login button');
      await other.locator('#server-facts', { hasText: 'not an admin user' }).waitFor({ timeout: 10_000 });
    });
  });
}
