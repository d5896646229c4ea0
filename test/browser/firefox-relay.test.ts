// The BiDi relay in front of Debian's firefox-esr (firefox-relay.ts) answers one command itself:
// a media-features override that overrides nothing. One with a value must reach Firefox, which
// then either applies it or refuses it; the relay never reports it done on its own.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { launchFirefox } from './firefox.js';

describe('firefox BiDi relay', () => {
  it('passes a real color-scheme override on to Firefox: applied there or refused there, never faked', async () => {
    let launched: Awaited<ReturnType<typeof launchFirefox>> | null = null;
    let userDataDir = '';
    try {
      launched = await launchFirefox('dark');
      userDataDir = launched.userDataDir;
      const page = await launched.browser.newPage();
      // Firefox took the override: then the page must see it (a faked success would not).
      assert.equal(await page.evaluate(() => (globalThis as unknown as { matchMedia(q: string): { matches: boolean } }).matchMedia('(prefers-color-scheme: dark)').matches), true, 'dark applied by Firefox');
    } catch (err) {
      // Firefox ESR 153 refuses it: the error is Firefox's own answer, passed back unchanged.
      if (err instanceof assert.AssertionError) throw err;
      assert.match(String(err), /emulation\.setMediaFeaturesOverride.*unknown command|unknown command[\s\S]*setMediaFeaturesOverride/);
    } finally {
      await launched?.browser.close();
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});
