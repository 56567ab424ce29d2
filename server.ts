import { ConfigError, loadConfig } from './lib/config';
import { startHerald } from './lib/boot';
import { createLogger } from './lib/log';

/** Herald: Next.js pages, the push API and socket.io on one port. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.log);
  const herald = await startHerald(config, log);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const force = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 2_000);
    force.unref();
    herald.shutdown().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  // Exit loudly: a half-started server is worse than none.
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
