/**
 * Issue 19: the browser of the UI tests, Debian's `chromium` driven by playwright-core (these
 * machines cannot download Playwright's own browsers; `.ci/run` installs the package when absent).
 */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian installs it; `CHROMIUM_PATH` points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches headless Chromium, or fails saying how to install it (never a silent skip). */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH))
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: the browser test needs it (as root: apt-get install -y --no-install-recommends chromium; .ci/run does so), or set CHROMIUM_PATH`,
    );
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 60_000,
  });
}
