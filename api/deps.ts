import type { Client } from '@temporalio/client';
import type { DatabaseHandle } from '../db/client';
import type { Secrets } from '../runtime/secrets';

/** What the routes need; passed to each route plugin as its options. */
export interface ApiDeps {
  database: DatabaseHandle;
  temporal: Client;
  taskQueue: string;
  namespace: string;
  temporalUiUrl: string;
  /** Verify unsubscribe and tracking links (the worker signs them with the same secret). */
  secrets: Secrets;
  /** The API's public address, for links in pages. */
  publicUrl: () => string;
  /** The Temporal SDK's Prometheus endpoint in this process, appended to /metrics. */
  temporalMetricsUrl?: string;
  /** Requests per minute per API key (default 1200). */
  rateLimitPerMinute?: number;
  /** Requests per minute per client address to the public routes: unsubscribe, tracking, task form (default 600). */
  publicRateLimitPerMinute?: number;
  /** Failed authentications per minute per client address before keyed routes answer 429 (default 20). */
  authFailureLimitPerMinute?: number;
  /** Fastify's trustProxy: whose X-Forwarded-For names the client's address (default: nobody's). */
  trustProxy?: boolean | string[];
  /** METRICS_TOKEN: /metrics answers only `Authorization: Bearer <token>` when set. */
  metricsToken?: string;
  /**
   * WEBHOOK_ALLOWED_HOSTS: internal hosts notify steps may name (publishing refuses other literal
   * internal addresses). None when absent.
   */
  webhookAllowedHosts?: readonly string[];
  /** JOURNEY_REVIEW_PROCESS: the process that reviews every journey's publish (none: only journeys with their own policy). */
  journeyReviewProcess?: string;
  /** TEMPLATE_REVIEW_PROCESS: the process that reviews every new template version (none: only templates with their own policy). */
  templateReviewProcess?: string;
}

export interface RouteOptions {
  deps: ApiDeps;
}
