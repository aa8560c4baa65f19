import { existsSync } from 'node:fs';
import { z } from 'zod';
import { internalAddressKind, isAllowedHost, parseHostAllowList, refusalMessage } from '../journey-language/addresses';

/** Empty strings in the environment (common in .env files) mean "not set". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const withDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess((v) => (v === '' || v === undefined ? fallback : v), schema);

/** Every setting Nurture reads from the environment; documented in .env.example. */
export const ConfigSchema = z.object({
  NODE_ENV: withDefault(z.enum(['development', 'production', 'test']), 'development'),
  HOST: withDefault(z.string().min(1), '127.0.0.1'),
  PORT: withDefault(z.coerce.number().int().min(0).max(65535), 3000),
  PUBLIC_URL: optional(z.url()),
  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')),
  DATABASE_OWNER_URL: optional(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'))
    .describe("the database owner's URL, used only to apply migrations (DATABASE_URL is then the runtime role's)"),
  DATABASE_POOL_SIZE: withDefault(z.coerce.number().int().min(1).max(200), 10),
  DATABASE_STATEMENT_TIMEOUT_MS: withDefault(z.coerce.number().int().min(0).max(86_400_000), 30_000),
  DATA_DIR: withDefault(z.string().min(1), '.data'),
  TEMPORAL_ADDRESS: withDefault(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port'), '127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: withDefault(z.string().min(1), 'default'),
  TEMPORAL_TLS: withDefault(z.enum(['true', 'false']), 'false').transform((v) => v === 'true')
    .describe('connect to Temporal over TLS (implied by a client certificate or an API key)'),
  TEMPORAL_TLS_CA_PATH: optional(z.string().min(1)).describe("PEM of the server's root CA, when the system does not trust it"),
  TEMPORAL_TLS_CERT_PATH: optional(z.string().min(1)).describe('PEM client certificate for mTLS (with TEMPORAL_TLS_KEY_PATH)'),
  TEMPORAL_TLS_KEY_PATH: optional(z.string().min(1)).describe('PEM private key of the client certificate'),
  TEMPORAL_TLS_SERVER_NAME: optional(z.string().min(1)).describe('overrides the TLS server name (SNI)'),
  TEMPORAL_API_KEY: optional(z.string().min(1)).describe('API key for Temporal Cloud or a server that takes them (sent over TLS)'),
  TEMPORAL_UI_URL: withDefault(z.url(), 'http://127.0.0.1:8233'),
  TASK_QUEUE: withDefault(z.string().min(1), 'nurture'),
  SMTP_URL: optional(z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')),
  EMAIL_CAPTURE: withDefault(z.enum(['true', 'false']), 'false').transform((v) => v === 'true')
    .describe('production only: run without SMTP_URL, keeping every email in outgoing_emails unsent'),
  EMAIL_FROM: withDefault(z.string().min(3), 'Nurture <nurture@localhost>'),
  SIGNING_SECRET: optional(z.string().refine((v) => v.split(',').every((s) => s.trim().length >= 32),
    'each secret (comma-separated; the first signs, all verify) must be at least 32 characters')),
  TRACKING_LINK_TTL: withDefault(z.string().regex(/^\d+(s|m|h|d|w)$/, 'is a duration such as "365d"'), '365d'),
  WEBHOOK_SIGNING_SECRET: optional(z.string().min(16, 'must be at least 16 characters')),
  WEBHOOK_ALLOWED_HOSTS: withDefault(z.string(), '').transform((text, ctx) => {
    const { hosts, invalid } = parseHostAllowList(text);
    for (const entry of invalid) ctx.addIssue({ code: 'custom', message: `"${entry}" is not a host or host:port` });
    return hosts;
  }).describe('internal hosts notify webhooks may reach (comma-separated host or host:port)'),
  SMS_BASE_URL: withDefault(z.url({ protocol: /^https?$/ }), 'https://api.twilio.com')
    .describe('an SMS provider that takes Twilio\'s request shape (POST <base>/2010-04-01/Accounts/<sid>/Messages.json)'),
  SMS_ACCOUNT_SID: optional(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'is 1-64 letters, digits, "_" or "-"')).describe('the account (basic auth user); SMS is off without it'),
  SMS_AUTH_TOKEN: optional(z.string().min(8, 'must be at least 8 characters')).describe('the basic auth password'),
  SMS_FROM: optional(z.string().regex(/^\+?[0-9]{3,15}$|^[A-Za-z0-9 ]{1,11}$/, 'is a number (E.164) or an alphanumeric sender id of up to 11 characters')),
  SMS_ALLOWED_HOSTS: withDefault(z.string(), '').transform((text, ctx) => {
    const { hosts, invalid } = parseHostAllowList(text);
    for (const entry of invalid) ctx.addIssue({ code: 'custom', message: `"${entry}" is not a host or host:port` });
    return hosts;
  }).describe('an internal SMS_BASE_URL host to allow (the webhook rules refuse internal addresses otherwise)'),
  SENDING_WINDOW: optional(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'is "HH:MM-HH:MM", e.g. "08:00-21:00"'))
    .describe("quiet hours of every journey without its own sendingWindow: marketing sends wait for this window, in the contact's time zone"),
  SENDING_WINDOW_TIMEZONE: withDefault(z.string().refine((tz) => { try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; } }, 'is an IANA time zone'), 'UTC')
    .describe('the zone of SENDING_WINDOW for contacts without one'),
  JOURNEY_REVIEW_PROCESS: optional(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'is a process key'))
    .describe('the process whose run must approve every journey version before it goes live (four eyes)'),
  TEMPLATE_REVIEW_PROCESS: optional(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'is a process key'))
    .describe('the process whose run must approve every new email template version before journeys can use it (four eyes)'),
  CONSENT_MODE: withDefault(z.enum(['opt_out', 'opt_in']), 'opt_out'),
  EMAIL_FREQUENCY_CAP: withDefault(z.string().regex(/^(off|\d+\/\d+(ms|s|m|h|d|w))$/, 'is "off" or N/duration, e.g. "5/7d"'), '5/7d'),
  EMAIL_RATE_LIMIT_PER_SECOND: withDefault(z.coerce.number().positive().max(10_000), 20),
  WORKFLOW_BUNDLE_PATH: optional(z.string().min(1)).describe('a pre-built workflow bundle (else workflows/ is bundled at start)'),
  WORKER_MAX_CACHED_WORKFLOWS: withDefault(z.coerce.number().int().min(0).max(1_000_000), 250),
  RATE_LIMIT_PER_MINUTE: withDefault(z.coerce.number().int().min(1).max(1_000_000), 1200),
  PUBLIC_RATE_LIMIT_PER_MINUTE: withDefault(z.coerce.number().int().min(1).max(1_000_000), 600),
  AUTH_FAILURE_LIMIT_PER_MINUTE: withDefault(z.coerce.number().int().min(1).max(1_000_000), 20),
  TRUST_PROXY: withDefault(z.string(), 'false').transform((v): boolean | string[] => (v === 'true' ? true : v === 'false' ? false : v.split(',').map((a) => a.trim()).filter(Boolean)))
    .describe('whose X-Forwarded-For to believe: false, true (any), or proxy addresses / CIDRs, comma-separated'),
  TEMPORAL_METRICS_PORT: withDefault(z.coerce.number().int().min(0).max(65535), 9464),
  WORKER_METRICS_PORT: withDefault(z.coerce.number().int().min(0).max(65535), 9465),
  METRICS_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
  LOG_LEVEL: withDefault(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  AUDIT_CHECKPOINT_KEY: optional(z.string().min(1))
    .describe('Ed25519 private key that signs audit checkpoints: PEM (line breaks may be written \\n) or the path of a PEM file; the worker requires it in production'),
  SEGMENT_REFRESH_INTERVAL: withDefault(z.string().regex(/^\d+(s|m|h|d|w)$/, 'is a duration such as "1h"'), '1h')
    .describe('how often a Temporal Schedule re-evaluates time-relative segments over every contact'),
  AUDIT_CHECKPOINT_INTERVAL: withDefault(z.string().regex(/^(off|\d+(s|m|h|d|w))$/, 'is "off" or a duration such as "1h"'), '1h'),
  AUDIT_CHECKPOINT_DIR: optional(z.string().min(1)).describe('append-only directory of the checkpoints (default DATA_DIR/audit-checkpoints)'),
  AUDIT_CHECKPOINT_S3_BUCKET: optional(z.string().min(3)).describe('write the checkpoints to this S3 (or S3-compatible) bucket instead of the directory'),
  AUDIT_CHECKPOINT_S3_PREFIX: withDefault(z.string(), 'audit-checkpoints/'),
  AUDIT_CHECKPOINT_S3_REGION: withDefault(z.string().min(1), 'us-east-1'),
  AUDIT_CHECKPOINT_S3_ENDPOINT: optional(z.url()).describe("an S3-compatible service's URL (path-style requests); AWS when unset"),
  AUDIT_CHECKPOINT_S3_OBJECT_LOCK: optional(z.string().regex(/^(GOVERNANCE|COMPLIANCE):\d+d$/, 'is GOVERNANCE:<days>d or COMPLIANCE:<days>d'))
    .describe('object lock retention of every checkpoint object (the bucket must have object lock enabled)'),
});

export type Config = z.infer<typeof ConfigSchema>;

/**
 * SMS takes an account, a token and a sender together (or none: SMS off), and its base URL obeys
 * the webhook rules: no internal address unless SMS_ALLOWED_HOSTS names it.
 */
function checkSms(config: Config): string[] {
  const given = [config.SMS_ACCOUNT_SID, config.SMS_AUTH_TOKEN, config.SMS_FROM].filter((v) => v !== undefined).length;
  const problems = given === 0 || given === 3 ? [] : ['SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM: give all three (SMS on) or none'];
  const url = new URL(config.SMS_BASE_URL);
  const kind = isAllowedHost(url, config.SMS_ALLOWED_HOSTS) ? undefined : internalAddressKind(url.hostname);
  if (kind) problems.push(`SMS_BASE_URL: ${refusalMessage(url.hostname, kind)} (allow it with SMS_ALLOWED_HOSTS)`);
  return problems;
}

/** A client certificate needs its key and the other way round. */
function checkTemporalTls(config: Config): string[] {
  if ((config.TEMPORAL_TLS_CERT_PATH === undefined) === (config.TEMPORAL_TLS_KEY_PATH === undefined)) return [];
  return ['TEMPORAL_TLS_CERT_PATH, TEMPORAL_TLS_KEY_PATH: give both (mTLS) or neither'];
}

/**
 * Emails carry links (unsubscribe, tracking, task forms) to PUBLIC_URL, so one that really leaves
 * needs the address recipients reach, not the loopback default. Production sends through
 * SMTP_URL, or says outright that it captures (EMAIL_CAPTURE=true): a missing SMTP_URL must not
 * silently keep every email unsent.
 */
function checkEmail(config: Config): string[] {
  const problems: string[] = [];
  if (config.SMTP_URL && !config.PUBLIC_URL) problems.push('PUBLIC_URL: is required when SMTP_URL is set (emails link to it)');
  if (config.SMTP_URL && config.EMAIL_CAPTURE) problems.push('EMAIL_CAPTURE: true captures emails; leave it out when SMTP_URL is set');
  if (config.NODE_ENV === 'production' && !config.SMTP_URL && !config.EMAIL_CAPTURE) {
    problems.push('SMTP_URL: is required when NODE_ENV=production (or set EMAIL_CAPTURE=true to keep emails unsent in outgoing_emails)');
  }
  return problems;
}

/** Secrets are required in production; elsewhere a missing one is generated per data dir. */
function requireSecretsInProduction(config: Config): string[] {
  if (config.NODE_ENV !== 'production') return [];
  return (['SIGNING_SECRET', 'WEBHOOK_SIGNING_SECRET', 'DATABASE_URL'] as const)
    .filter((k) => !config[k]).map((k) => `${k}: is required when NODE_ENV=production`);
}

/**
 * The owner's URL only migrates the database the processes use: the same server and database as
 * DATABASE_URL (another role), and never beside PGlite, which has no roles.
 */
function checkDatabaseRoles(config: Config): string[] {
  if (!config.DATABASE_OWNER_URL) return [];
  if (!config.DATABASE_URL) return ['DATABASE_OWNER_URL: needs DATABASE_URL (the runtime role on the same database)'];
  const where = (url: string) => {
    try {
      const u = new URL(url);
      return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
    } catch {
      return url; // not a URL PostgreSQL's clients parse either: compared as written
    }
  };
  if (where(config.DATABASE_OWNER_URL) !== where(config.DATABASE_URL)) return ['DATABASE_OWNER_URL: must name the same server and database as DATABASE_URL'];
  return [];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Loads ./.env into process.env when present (variables already set win). */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const missing = [...requireSecretsInProduction(parsed.data), ...checkTemporalTls(parsed.data), ...checkSms(parsed.data), ...checkEmail(parsed.data), ...checkDatabaseRoles(parsed.data)];
  if (missing.length) throw new ConfigError(missing);
  return parsed.data;
}

/** The address the API is reached at, for links in emails and logs. */
export function publicUrl(config: Config, boundPort?: number): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/$/, '');
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  return `http://${host}:${boundPort ?? config.PORT}`;
}
