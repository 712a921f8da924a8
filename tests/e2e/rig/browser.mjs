// Launches Debian's Chromium headless for the end-to-end tests, the micro-benchmark and the
// rig's self-test, with the flags this machine needs: no sandbox (the tests run as root) and no
// background networking, component updates or sync (the closed network refuses those
// connections, many at a time). playwright-core drives it; it never downloads a browser.
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless Chromium (playwright-core `Browser`) with a fresh, temporary profile. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
