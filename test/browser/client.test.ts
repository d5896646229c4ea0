// The browser build of the client (dist/ui/zookooper.js) in real chromium and firefox: the public API,
// Buffer data out, one-shot and persistent watches, and a reconnect with the same session
// across a server restart, after which the watches still fire.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { connect, type ZookooperClient } from '../../src/index.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { browserKinds, launchBrowser } from './launch.js';

for (const kind of browserKinds) {
  describe(`browser client bundle in ${kind}`, () => {
    let server: TestServer;
    let browser: BrowserContext;
    let userDataDir: string;
    let page: Page;
    let zk: ZookooperClient;
    const dataDir = tempDir('zk-browser-client-');
    // The test servers tick every 200 ms, which caps sessions at 4 s: a restart on a loaded machine
    // takes longer, and the browser client would rightly give its session up as expired.
    const sessionArgs = ['--max-session-timeout-ms', '60000'];

    before(async () => {
      server = await startServer({ dataDir, workers: 1, args: sessionArgs });
      ({ browser, userDataDir } = await launchBrowser(kind));
      page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${server.port}/ui/index.html?server=127.0.0.1:1`); // same origin; the console itself fails to connect, harmlessly
      zk = await connect(server.connectString);
    });

    after(async () => {
      await zk?.close().catch(() => {});
      await browser?.close();
      server?.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    it('speaks the client API: create, getData as a Buffer, a one-shot watch fired by a Node client', async () => {
      const result = await page.evaluate(async (cs) => {
        const m = await import('/ui/zookooper.js' as string);
        // A long session timeout: the client gives the session up (state 'expired', as Curator)
        // when no server answers within it, and the restart below can take many seconds on a
        // loaded machine.
        const c = await m.connect(cs, { sessionTimeoutMs: 60_000 });
        (globalThis as Record<string, unknown>).zkc = c;
        const events: string[] = [];
        (globalThis as Record<string, unknown>).events = events;
        await c.create('/from-browser', 'héllo');
        const { data, stat } = await c.getData('/from-browser', { watch: (e: { type: string; path: string }) => events.push(`${e.type} ${e.path}`) });
        await c.addWatch('/from-browser', 'persistent', (e: { type: string; path: string }) => events.push(`persistent ${e.type}`));
        return { text: data.toString('utf8'), isBuffer: data instanceof Uint8Array && typeof (data as { readUInt32BE?: unknown }).readUInt32BE === 'function', version: stat.version, state: c.state };
      }, server.connectString);
      assert.equal(result.text, 'héllo');
      assert.equal(result.isBuffer, true, 'getData gives a Buffer in the browser too');
      assert.equal(result.version, 0);
      assert.equal(result.state, 'connected');
      assert.equal((await zk.getData('/from-browser')).data.toString(), 'héllo');
      await zk.setData('/from-browser', 'changed');
      await page.waitForFunction(() => ((globalThis as Record<string, unknown>).events as string[]).length >= 2, undefined, { timeout: 10_000 });
      const events = await page.evaluate(() => (globalThis as Record<string, unknown>).events as string[]);
      assert.deepEqual([...events].sort(), ['dataChanged /from-browser', 'persistent dataChanged']);
    });

    it('reconnects across a server restart with the same session, and its persistent watch still fires', async () => {
      const before = await page.evaluate(() => ((globalThis as Record<string, unknown>).zkc as { sessionId: bigint }).sessionId.toString());
      const port = server.port;
      await server.stop();
      await page.waitForFunction(() => ((globalThis as Record<string, unknown>).zkc as { state: string }).state === 'disconnected', undefined, { timeout: 20_000 });
      server = await startServer({ dataDir, workers: 1, port, args: sessionArgs });
      await page.waitForFunction(() => !['disconnected', 'connecting'].includes(((globalThis as Record<string, unknown>).zkc as { state: string }).state), undefined, { timeout: 60_000 });
      assert.equal(await page.evaluate(() => ((globalThis as Record<string, unknown>).zkc as { state: string }).state), 'connected', 'the browser client reconnected (not expired, not closed)');
      const after = await page.evaluate(() => ((globalThis as Record<string, unknown>).zkc as { sessionId: bigint }).sessionId.toString());
      assert.equal(after, before, 'same session after the reconnect');
      await zk.close().catch(() => {});
      zk = await connect(server.connectString);
      await zk.setData('/from-browser', 'after restart');
      await page.waitForFunction(() => ((globalThis as Record<string, unknown>).events as string[]).filter((e) => e.startsWith('persistent')).length >= 2, undefined, { timeout: 10_000 });
      const text = await page.evaluate(async () => ((await ((globalThis as Record<string, unknown>).zkc as { getData(p: string): Promise<{ data: { toString(): string } }> }).getData('/from-browser')).data.toString()));
      assert.equal(text, 'after restart');
    });
  });
}
