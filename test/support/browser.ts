import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (.ci/run installs it); no browser is ever downloaded. */
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

/**
 * Where the tests put their screenshots: a scratch folder, unless CONSOLE_SCREENSHOTS names one
 * (`npm run screenshots` refreshes the README's, in docs/console), so a test run leaves the tree clean.
 */
export const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS ?? join(tmpdir(), 'ioasid-console-screenshots');

export interface ConsoleBrowser {
  context: BrowserContext;
  page: Page;
  /** Every URL any page of the context requested, in order. */
  requests: string[];
  /** Console errors and warnings, and uncaught page errors, of every page. */
  problems: string[];
  /** Opens `path` (below the app's origin) in the page. */
  open(path: string): Promise<void>;
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** A fresh headless Chromium (its own profile directory) at 1280x800, recording requests and console problems. */
export async function launchConsoleBrowser(origin: string): Promise<ConsoleBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'ioasid-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 800 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const requests: string[] = [];
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  };
  context.on('request', (r) => requests.push(r.url()));
  context.on('page', watch);
  // Waits end at 10 s (a failure), not at playwright's 30 s.
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  return {
    context,
    page,
    requests,
    problems,
    open: async (path) => {
      await page.goto(`${origin}${path}`);
    },
    screenshot: async (name) => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
    },
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** One browser per suite (call inside `describe`, after useTestApp so the app is up first). */
export function useConsoleBrowser(origin: () => string): ConsoleBrowser {
  let browser: ConsoleBrowser | undefined;
  before(async () => {
    browser = await launchConsoleBrowser(origin());
  });
  after(async () => {
    await browser?.close();
  });
  const launched = (): ConsoleBrowser => {
    if (!browser) throw new Error('the suite browser is not launched yet');
    return browser;
  };
  return {
    get context() {
      return launched().context;
    },
    get page() {
      return launched().page;
    },
    get requests() {
      return launched().requests;
    },
    get problems() {
      return launched().problems;
    },
    open: (path) => launched().open(path),
    screenshot: (name) => launched().screenshot(name),
    close: () => launched().close(),
  };
}

/**
 * Every request went to the app's own origin, and the page logged no error or warning except
 * the browser's own line for each answer a test provoked on purpose (e.g. a 401 for a wrong token).
 */
export function assertCleanSession(browser: ConsoleBrowser, origin: string, expectedStatuses: number[] = []): void {
  const foreign = browser.requests.filter((url) => new URL(url).origin !== origin);
  assert.deepEqual(foreign, [], 'no request to another origin');
  assert.ok(browser.requests.length > 0, 'the page made requests');
  const provoked = new RegExp(`^error: Failed to load resource: the server responded with a status of (${expectedStatuses.join('|') || 'none'}) `);
  assert.deepEqual(
    browser.problems.filter((p) => !provoked.test(p)),
    [],
    'no console error or warning',
  );
}

/** What the console's header says of the session: who is signed in (as shown, and the role behind it) and the main navigation's links. */
export async function sessionHeader(page: Page): Promise<{ who: string; role: string | null; nav: string[] }> {
  const who = page.locator('header .who');
  await who.waitFor();
  return {
    who: await who.innerText(),
    role: await who.getAttribute('data-role'),
    nav: await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts(),
  };
}
