import pino from 'pino';
import type { Config } from './config';

export type Logger = pino.Logger;

export const REDACTED = '[redacted]';

/**
 * pino `redact` paths: credentials (API keys in authorization headers, cookies) wherever a
 * request's or response's headers are logged. Logs reach more readers than may act as a key.
 */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]',
  'headers.authorization', 'headers.cookie', 'headers["x-api-key"]', 'res.headers["set-cookie"]',
];

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name = 'nurture'): Logger {
  return pino({ name, level: config.LOG_LEVEL, redact: { paths: REDACT_PATHS, censor: REDACTED } });
}
