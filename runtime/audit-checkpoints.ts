import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { durationToMs } from '../journey-language';
import { keyIdOf } from '../services/audit/checkpoint-file';
import { directorySink } from '../services/audit/checkpoint-sink';
import type { AuditCheckpointSettings } from '../services/audit/checkpoints';
import { s3Sink } from '../services/audit/s3-sink';
import { ConfigError, type Config } from './config';

const PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/**
 * The checkpoint signing key: AUDIT_CHECKPOINT_KEY as PEM (a one-line value may write its line
 * breaks as `\n`) or the path of a PEM file; outside production, when unset, generated once into
 * DATA_DIR/audit-checkpoint-key.pem (0600). Never in the database: whoever can rewrite the
 * database must not be able to sign a checkpoint of the rewrite.
 */
export function loadCheckpointKey(config: Config): KeyObject {
  let pem: string;
  if (config.AUDIT_CHECKPOINT_KEY) {
    const value = config.AUDIT_CHECKPOINT_KEY.replace(/\\n/g, '\n');
    pem = PEM.test(value) ? value : readFileSync(value, 'utf8');
  } else if (config.NODE_ENV === 'production') {
    throw new ConfigError(['AUDIT_CHECKPOINT_KEY: is required when NODE_ENV=production (an Ed25519 private key, PEM or the path of a PEM file)']);
  } else {
    const file = path.resolve(config.DATA_DIR, 'audit-checkpoint-key.pem');
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    }
    pem = readFileSync(file, 'utf8');
  }
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError([`AUDIT_CHECKPOINT_KEY: must be an Ed25519 key, not ${key.asymmetricKeyType}`]);
  return key;
}

/** The signing key, its public half as published, and the sink (an S3 bucket when configured, else the directory). */
export function auditCheckpointSettings(config: Config): AuditCheckpointSettings {
  const privateKey = loadCheckpointKey(config);
  const publicKey = createPublicKey(privateKey);
  const [mode, days] = config.AUDIT_CHECKPOINT_S3_OBJECT_LOCK?.split(':') ?? [];
  const sink = config.AUDIT_CHECKPOINT_S3_BUCKET
    ? s3Sink({
      bucket: config.AUDIT_CHECKPOINT_S3_BUCKET, prefix: config.AUDIT_CHECKPOINT_S3_PREFIX, region: config.AUDIT_CHECKPOINT_S3_REGION,
      endpoint: config.AUDIT_CHECKPOINT_S3_ENDPOINT,
      objectLock: mode ? { mode: mode as 'GOVERNANCE' | 'COMPLIANCE', days: Number.parseInt(days!, 10) } : undefined,
    })
    : directorySink(config.AUDIT_CHECKPOINT_DIR ?? path.resolve(config.DATA_DIR, 'audit-checkpoints'));
  return { sink, privateKey, publicKey, keyId: keyIdOf(publicKey), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** How often the Schedule writes a checkpoint (AUDIT_CHECKPOINT_INTERVAL); undefined: `off`. */
export function checkpointInterval(config: Config): number | undefined {
  return config.AUDIT_CHECKPOINT_INTERVAL === 'off' ? undefined : durationToMs(config.AUDIT_CHECKPOINT_INTERVAL);
}
