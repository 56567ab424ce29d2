import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';

/**
 * Real Chromium against the real server (each spec file starts its own on a
 * free port: see e2e/support/fixtures.ts). On machines where Playwright cannot
 * download its browser, Debian's chromium is used: CHROMIUM_PATH overrides.
 */
const systemChromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const executablePath = existsSync(systemChromium) ? systemChromium : undefined;

export default defineConfig({
  testDir: './e2e',
  // The specs start the compiled server (dist/server.js): build it first.
  globalSetup: './tests/support/build-server.ts',
  outputDir: './test-results',
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  workers: process.env.CI ? 1 : 2,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    ...devices['Desktop Chrome'],
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
});
