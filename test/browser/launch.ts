// The browsers the console tests run in, and one way to launch each: Debian's chromium and
// firefox-esr (installed by .ci/run), never a browser downloaded by npm.
import type { BrowserContext } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { launchFirefox } from './firefox.js';

export { artifactsDir } from './chromium.js';

export const browserKinds = ['chromium', 'firefox'] as const;
export type BrowserKind = (typeof browserKinds)[number];

/** A fresh persistent context (temp profile in userDataDir, which the caller removes). */
export function launchBrowser(kind: BrowserKind): Promise<{ browser: BrowserContext; userDataDir: string }> {
  return kind === 'chromium' ? launchChromium() : launchFirefox();
}
