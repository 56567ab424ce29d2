import { signUserToken } from '../lib/auth';
import { ConfigError, loadConfig } from '../lib/config';
import { UserIdSchema } from '../lib/validate';

/**
 * npm run token -- <userId> [ttlSeconds]
 * Prints a user token signed with AUTH_SECRET, as a backend would mint it.
 */
async function main(): Promise<void> {
  const [userId, ttlArg] = process.argv.slice(2);
  const id = UserIdSchema.safeParse(userId);
  if (!id.success) {
    console.error('usage: npm run token -- <userId> [ttlSeconds]   (AUTH_SECRET must be set)');
    process.exit(2);
  }
  const config = loadConfig(undefined, () => {
    throw new ConfigError('AUTH_SECRET is not set: a token signed with a random secret would be useless. Set AUTH_SECRET (the same value the server uses).');
  });
  const ttl = ttlArg === undefined ? config.tokenTtlSeconds : Number(ttlArg);
  if (!Number.isInteger(ttl) || ttl <= 0) {
    console.error('ttlSeconds must be a positive whole number');
    process.exit(2);
  }
  process.stdout.write((await signUserToken(config.authSecret, id.data, ttl)) + '\n');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
