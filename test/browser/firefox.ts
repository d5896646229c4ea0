// Launching Debian's firefox-esr for the console tests: never a downloaded browser. A missing
// firefox-esr fails the test with the command that installs it.
//
// playwright-core drives it over WebDriver BiDi (channel moz-firefox), through the relay of
// firefox-relay.ts (why: see there). playwright starts the executable it is given with Firefox's
// arguments, so that executable is a two-line sh script, written into the test's temp dir, that
// runs the compiled relay with this node; the relay starts /usr/bin/firefox-esr.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firefox, type BrowserContext } from 'playwright-core';

export const firefoxPath = '/usr/bin/firefox-esr';
const relayScript = fileURLToPath(new URL('./firefox-relay.js', import.meta.url));

function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `colorScheme` other than null (no override) is for the relay's own test: Firefox ESR refuses it. */
export async function launchFirefox(colorScheme: 'light' | 'dark' | null = null): Promise<{ browser: BrowserContext; userDataDir: string }> {
  if (!existsSync(firefoxPath)) {
    throw new Error(`${firefoxPath} not found: install it with  sudo apt-get update && sudo apt-get install -y firefox-esr`);
  }
  // One temp dir holds the profile and the launcher script; the tests remove it as userDataDir.
  const tempRoot = mkdtempSync(join(tmpdir(), 'zk-firefox-'));
  const profileDir = join(tempRoot, 'profile');
  mkdirSync(profileDir);
  const launcher = join(tempRoot, 'firefox');
  writeFileSync(launcher, `#!/bin/sh\nexec ${shQuote(process.execPath)} ${shQuote(relayScript)} "$@"\n`);
  chmodSync(launcher, 0o755);
  let browser: BrowserContext;
  try {
    browser = await firefox.launchPersistentContext(profileDir, {
      executablePath: launcher,
      channel: 'moz-firefox',
      headless: true,
      viewport: { width: 1280, height: 800 },
      colorScheme, // null: no override (playwright's 'no-override'): the one media command Firefox ESR lacks becomes a no-op (firefox-relay.ts)
      env: { ...process.env, ZK_FIREFOX_PATH: firefoxPath },
    });
  } catch (err) {
    rmSync(tempRoot, { recursive: true, force: true }); // the caller never learns the dir
    throw err;
  }
  return { browser, userDataDir: tempRoot };
}
