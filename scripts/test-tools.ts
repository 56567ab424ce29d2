import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

/**
 * The first step of `npm test`: the programs the suites run besides Node.
 * Where one is missing and this machine can install it (Debian, as root), it is
 * installed; otherwise the run stops at once with the command that fixes it.
 *
 * - a Chromium for Playwright: CHROMIUM_PATH, Debian's /usr/bin/chromium, or
 *   Playwright's own (`npx playwright install chromium`, where downloads work);
 * - redis-server and the PostgreSQL client tools (pg_isready): the cluster
 *   tests start private Redis instances and proxy PostgreSQL;
 * - prometheus: a test has a real one scrape two nodes.
 */

interface Tool {
  name: string;
  present(): boolean;
  /** Debian package that provides it. */
  debian: string;
  /** Where Debian is not at hand. */
  otherwise: string;
}

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const tools: Tool[] = [
  {
    name: 'Chromium (Playwright)',
    present: () =>
      (process.env.CHROMIUM_PATH !== undefined && existsSync(process.env.CHROMIUM_PATH)) ||
      existsSync('/usr/bin/chromium') ||
      existsSync(chromium.executablePath()),
    debian: 'chromium',
    otherwise: 'npx playwright install chromium',
  },
  { name: 'redis-server', present: () => onPath('redis-server'), debian: 'redis-server', otherwise: 'install Redis 7 (redis-server on PATH)' },
  { name: 'PostgreSQL client tools', present: () => onPath('pg_isready'), debian: 'postgresql-client', otherwise: 'install the PostgreSQL client (pg_isready on PATH)' },
  { name: 'Prometheus', present: () => onPath('prometheus'), debian: 'prometheus', otherwise: 'install Prometheus 2 (prometheus on PATH)' },
];

const missing = tools.filter((t) => !t.present());
if (missing.length > 0) {
  const canApt = process.getuid?.() === 0 && onPath('apt-get');
  const packages = missing.map((t) => t.debian);
  if (canApt) {
    console.log(`installing what the tests need: ${packages.join(', ')} (apt-get)`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  const still = tools.filter((t) => !t.present());
  if (still.length > 0) {
    console.error('The tests need programs this machine lacks:');
    for (const t of still) console.error(`  ${t.name}: apt-get install ${t.debian}   (elsewhere: ${t.otherwise})`);
    process.exit(1);
  }
}
