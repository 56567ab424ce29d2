import { parseArgs } from 'node:util';
import { formatReport, soak } from '../tests/support/soak';

/**
 * npm run soak [-- --minutes 10 --sockets 2000 --users 1000 --rate 50 --reconnect-every 60 --reconnect-fraction 0.2 --json]
 *
 * Starts the real server (production mode, a temporary DATA_DIR, no push rate
 * limit, connection caps raised), holds the sockets, pushes steadily to random
 * users, reconnects a share of the sockets with their lastSeq on a schedule,
 * and reports delivered/expected (overall and per socket), duplicates, p99
 * latency and the server's RSS growth. Exits 1 if anything was lost or
 * duplicated, a push failed, or a socket was told to resync or cut off.
 */
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    sockets: { type: 'string', default: '2000' },
    users: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '50' },
    'reconnect-every': { type: 'string', default: '60' },
    'reconnect-fraction': { type: 'string', default: '0.2' },
    'max-recipients': { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function positive(name: string, raw: string | undefined, { integer = true, max = Infinity } = {}): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
    console.error(`--${name} must be a positive ${integer ? 'whole ' : ''}number${max < Infinity ? ` of at most ${max}` : ''} (got ${raw})`);
    process.exit(2);
  }
  return n;
}

if (values.help) {
  console.log('usage: npm run soak -- [--minutes 10] [--sockets 2000] [--users 1000] [--rate 50] [--reconnect-every 60] [--reconnect-fraction 0.2] [--max-recipients 3] [--json]');
  process.exit(0);
}

const sockets = positive('sockets', values.sockets);
const users = positive('users', values.users);
if (users > sockets) {
  console.error('--users must not exceed --sockets (every user holds at least one socket)');
  process.exit(2);
}

soak({
  durationMs: positive('minutes', values.minutes, { integer: false }) * 60_000,
  sockets,
  users,
  pushesPerSecond: positive('rate', values.rate, { integer: false }),
  reconnectEveryMs: positive('reconnect-every', values['reconnect-every'], { integer: false }) * 1000,
  reconnectFraction: positive('reconnect-fraction', values['reconnect-fraction'], { integer: false, max: 1 }),
  maxRecipients: positive('max-recipients', values['max-recipients'], { max: 1000 }),
  log: (line) => console.log(`[soak] ${line}`),
})
  .then((report) => {
    console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    process.exit(report.ok ? 0 : 1);
  })
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
