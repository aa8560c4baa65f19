import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config';

export interface Secrets {
  signing: string;
  webhook: string;
}

/**
 * The signing secrets: from the environment, else (outside production, where config requires
 * them) generated once and kept in DATA_DIR/secrets.json (git-ignored) so links stay valid
 * across restarts.
 */
export function resolveSecrets(config: Config): Secrets {
  if (config.SIGNING_SECRET && config.WEBHOOK_SIGNING_SECRET) {
    return { signing: config.SIGNING_SECRET, webhook: config.WEBHOOK_SIGNING_SECRET };
  }
  const file = path.resolve(config.DATA_DIR, 'secrets.json');
  let stored: Partial<Secrets> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
  const secrets: Secrets = {
    signing: config.SIGNING_SECRET ?? stored.signing ?? randomBytes(32).toString('base64url'),
    webhook: config.WEBHOOK_SIGNING_SECRET ?? stored.webhook ?? randomBytes(32).toString('base64url'),
  };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}
