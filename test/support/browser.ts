// A real headless Chromium for the tests that open offload's pages (the dashboard, the HTML report).
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);

export interface OpenBrowser {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close: () => Promise<void>;
}

/** Chromium on a fresh profile (Playwright takes the user data dir here rather than as a flag). */
export async function openChromium(options: {
  viewport: { width: number; height: number };
  offline?: boolean;
}): Promise<OpenBrowser> {
  const profile = await mkdtemp(join(tmpdir(), "offload-chromium-"));
  const removeProfile = () => rm(profile, { recursive: true, force: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: options.viewport,
      offline: options.offline ?? false,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  } catch (error) {
    await removeProfile();
    throw error;
  }
  return {
    context,
    close: async () => {
      await context.close();
      await removeProfile();
    },
  };
}
