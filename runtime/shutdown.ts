import type { Logger } from './logger';

/** Runs the cleanups (in order) once, on SIGINT or SIGTERM, then exits. */
export function onShutdown(logger: Logger, cleanups: Array<() => Promise<unknown> | unknown>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (err) {
        logger.warn({ err }, 'cleanup failed');
      }
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

/**
 * For processes whose workers Temporal's runtime stops on SIGINT/SIGTERM (it drops its own
 * listener once they have stopped): a listener of our own, so that a repeated signal (a second
 * Ctrl-C, or tsx passing the signal on) cannot kill the process before it has closed its
 * servers, its database and the dev server it started.
 */
export function keepAliveWhileStopping(logger: Logger): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => logger.info({ signal }, 'stopping: workers finish their current tasks, then everything closes'));
  }
}
