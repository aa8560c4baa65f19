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
