// The browser tests' Chromium: Debian's, driven by playwright-core (no browser download here), with the
// flags a sandbox-less CI machine needs. Files skip themselves when it is missing; screenshots go to the
// git-ignored test-results/screenshots/.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`browser tests skipped: ${CHROMIUM} is missing (Debian: apt-get install chromium)`);
}

export const SHOTS = path.resolve(__dirname, '../../test-results/screenshots');

/** A headless Chromium; the screenshot folder exists once it resolves. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
