/** The real browser the page tests drive: Debian's Chromium (scripts/setup.sh installs it), headless, offline. */
import { type Browser, chromium } from "playwright-core";

// no sandbox (CI runs as root), no GPU, and nothing that reaches the network on its own
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}
