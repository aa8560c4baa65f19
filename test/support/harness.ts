import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import pino from 'pino';
import { buildApp } from '../../api/app';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { connectTemporal, createClient } from '../../runtime/temporal';
import { createJourneyWorkers, type JourneyWorkers } from '../../runtime/worker';
import type { AuditCheckpointSettings } from '../../services/audit/checkpoints';
import type { EmailSettings } from '../../services/email/delivery';
import type { SmsSettings } from '../../services/channels/sms-provider';
import type { SendingWindow } from '../../journey-language';
import { createMailer } from '../../services/email/mailer';
import type { Resolver } from '../../services/webhooks/transport';
import { createApiKey } from '../../services/people/api-keys';
import { testEnvironment } from './env';
import { startSmtpSink, type SmtpSink } from './smtp-sink';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Everything a test drives: the real API over HTTP, a real worker, Postgres and an SMTP sink. */
export interface Harness {
  baseUrl: string;
  /** The database as the API and the worker use it: the runtime role (rows only, the audit trail append-only). */
  database: DatabaseHandle;
  /**
   * The same database as the server's superuser, for what the runtime role may not do and a test
   * must: inject faults with DDL and triggers, tamper with the audit trail, end connections.
   */
  admin: DatabaseHandle;
  client: Client;
  smtp: SmtpSink;
  taskQueue: string;
  /** Keys the harness made: `api` sends the admin key unless a request sets `authorization`. */
  keys: { admin: string; service: string };
  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  /** Creates and publishes a journey; returns its key. */
  publish(definition: unknown, key?: string): Promise<string>;
  /** The enrolment's workflow result. */
  result(workflowId: string): Promise<any>;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Starts an isolated stack on its own task queue against the run's Temporal server and database. */
export const TEST_SECRETS = { signing: 'test-signing-secret-0123456789abcdef', webhook: 'test-webhook-secret-0123' };

/**
 * WEBHOOK_ALLOWED_HOSTS of every test stack: the webhook receivers listen on loopback, which is
 * refused by default. Only the literal 127.0.0.1 is allowed, not names that resolve to it.
 */
export const TEST_WEBHOOK_ALLOWED_HOSTS = ['127.0.0.1'];

export interface HarnessOptions {
  email?: Partial<EmailSettings>;
  emailRatePerSecond?: number;
  rateLimitPerMinute?: number;
  /** false: no in-process worker (fault tests run it as a separate process). */
  worker?: boolean;
  /** Another Temporal server than the run's (fault tests restart their own). */
  temporalAddress?: string;
  /** PostgreSQL connections (default 5: test files run side by side on one server; the bench uses production's 10). */
  databasePoolSize?: number;
  /** WEBHOOK_ALLOWED_HOSTS of the API and the worker (default TEST_WEBHOOK_ALLOWED_HOSTS). */
  webhookAllowedHosts?: readonly string[];
  /** JOURNEY_REVIEW_PROCESS of the API and the worker (default none). */
  journeyReviewProcess?: string;
  /** TEMPLATE_REVIEW_PROCESS of the API (default none). */
  templateReviewProcess?: string;
  /** Resolves webhook hosts instead of DNS (a name that resolves inside the network, without DNS). */
  webhookResolver?: Resolver;
  /** A database of the test file's own instead of the run's shared one (a test that must see no other file's records). */
  databaseUrl?: string;
  /** The worker's audit checkpoint key and sink (none by default: checkpoints are refused). */
  auditCheckpoints?: AuditCheckpointSettings;
  /** The worker's SMS provider (none by default: SMS is off). */
  sms?: SmsSettings;
  /** The worker's global sending window (SENDING_WINDOW; none by default). */
  sendingWindow?: SendingWindow;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const env = testEnvironment();
  if (!runtimeInstalled) {
    Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never, shutdownSignals: [] });
    runtimeInstalled = true;
  }
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const smtp = await startSmtpSink();
  const databaseUrl = options.databaseUrl ?? env.databaseUrl;
  const database = await openDatabase({ url: databaseUrl, poolSize: options.databasePoolSize ?? 5 });
  // The superuser on the same database. A pool connects on first use: tests that never need it open no connection.
  const adminUrl = new URL(env.superuserDatabaseUrl);
  adminUrl.pathname = new URL(databaseUrl).pathname;
  const admin = await openDatabase({ url: adminUrl.toString(), poolSize: 1 });
  const keys = {
    admin: (await createApiKey(database.db, { name: 'test admin', scopes: ['admin'] })).key,
    service: (await createApiKey(database.db, { name: 'test service', scopes: ['service'] })).key,
  };
  const temporalAddress = options.temporalAddress ?? env.temporalAddress;
  // One native connection for the API's client and the workers, as bin/dev.ts runs them.
  const nativeConnection = await connectTemporal(temporalAddress);
  const client = createClient(nativeConnection, 'default');
  const taskQueue = `test-${randomUUID()}`;
  const mailer = createMailer(smtp.url, logger);
  const app: FastifyInstance = await buildApp({
    database, temporal: client, taskQueue, namespace: 'default', temporalUiUrl: 'http://127.0.0.1:8233',
    secrets: TEST_SECRETS, publicUrl: () => baseUrl, rateLimitPerMinute: options.rateLimitPerMinute ?? 100_000,
    webhookAllowedHosts: options.webhookAllowedHosts ?? TEST_WEBHOOK_ALLOWED_HOSTS, journeyReviewProcess: options.journeyReviewProcess, templateReviewProcess: options.templateReviewProcess,
  }, logger);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  const worker: JourneyWorkers | undefined = options.worker === false ? undefined : await createJourneyWorkers({
    client, connection: nativeConnection, namespace: 'default', taskQueue, db: database.db, mailer,
    email: {
      from: 'Nurture Test <journeys@nurture.test>', publicUrl: baseUrl, signingSecret: TEST_SECRETS.signing,
      tracking: true, consentMode: 'opt_out', frequencyCap: undefined, ...options.email,
    },
    webhookSecret: TEST_SECRETS.webhook, webhookTargets: { allowedHosts: options.webhookAllowedHosts ?? TEST_WEBHOOK_ALLOWED_HOSTS, resolve: options.webhookResolver },
    emailRatePerSecond: options.emailRatePerSecond ?? 1000,
    workflowBundle: { codePath: env.workflowBundlePath },
    auditCheckpoints: options.auditCheckpoints,
    sms: options.sms, sendingWindow: options.sendingWindow, journeyReviewProcess: options.journeyReviewProcess,
    // No workflow cache: every activation replays the run from its history, so any
    // non-determinism fails the test that meets it (as a restart or eviction would in production).
    maxCachedWorkflows: 0,
  });
  const running = worker?.run();

  const harness: Harness = {
    baseUrl, database, admin, client, smtp, taskQueue, keys,
    async publish(definition, key = uniqueKey()) {
      const created = await harness.api('POST', '/v1/journeys', { key, name: key, definition });
      if (created.status !== 201) throw new Error(`create ${key}: ${JSON.stringify(created.body)}`);
      const published = await harness.api('POST', `/v1/journeys/${key}/publish`);
      if (published.status !== 201) throw new Error(`publish ${key}: ${JSON.stringify(published.body)}`);
      return key;
    },
    result: (workflowId) => client.workflow.getHandle(workflowId).result(),
    async api(method, path, body, headers = {}) {
      const auth: Record<string, string> = Object.keys(headers).some((k) => k.toLowerCase() === 'authorization') ? {} : { authorization: `Bearer ${keys.admin}` };
      const all: Record<string, string> = { ...auth, ...headers };
      if (all.authorization === '') delete all.authorization;
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: body === undefined ? all : { 'content-type': 'application/json', ...all },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try { parsed = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, body: parsed as never, headers: res.headers };
    },
    async stop() {
      await app.close();
      worker?.shutdown();
      await running;
      mailer.close();
      await nativeConnection.close();
      await database.close();
      await admin.close();
      await smtp.close();
    },
  };
  return harness;
}

/** Polls until `check` returns a truthy value (or throws its last error after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw lastError ?? new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function uniqueEmail(prefix = 'contact'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.test`;
}

export function uniqueKey(prefix = 'journey'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
