// Launching Debian's chromium for the console tests: never a downloaded browser. A missing
// chromium fails the test with the command that installs it.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

export async function launchChromium(): Promise<{ browser: BrowserContext; userDataDir: string }> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} not found: install it with  sudo apt-get update && sudo apt-get install -y chromium`);
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'zk-chromium-'));
  // A persistent context is how playwright passes a temp --user-data-dir to the browser.
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { browser, userDataDir };
}

/** Where screenshots go: a gitignored folder of the repo (kept as test artifacts). */
export const artifactsDir = join(process.cwd(), 'test-artifacts');
