import { collectDefaultMetrics, Counter, Gauge, Histogram, register } from 'prom-client';

/**
 * Nurture's Prometheus metrics, on prom-client's default registry. Each process (API, worker, or
 * both under npm start) exposes the ones it moves; the worker adds the Temporal SDK's own.
 */
export const metrics = {
  apiRequests: new Counter({ name: 'nurture_api_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'] }),
  apiDuration: new Histogram({
    name: 'nurture_api_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  }),
  enrolmentsStarted: new Counter({ name: 'nurture_enrolments_started_total', help: 'Enrolments started', labelNames: ['journey', 'trigger'] }),
  stepsExecuted: new Counter({ name: 'nurture_steps_executed_total', help: 'Journey steps recorded', labelNames: ['type', 'outcome'] }),
  emails: new Counter({ name: 'nurture_emails_total', help: 'Journey emails by result (sent, captured, skipped by reason)', labelNames: ['status', 'reason'] }),
  activityRetriesFlagged: new Counter({
    name: 'nurture_activity_retries_flagged_total', help: 'Activity failures at or past the attempt that flags a stuck side effect (retried still)', labelNames: ['activity'],
  }),
  webhooks: new Counter({ name: 'nurture_webhooks_total', help: 'Webhook deliveries by result', labelNames: ['status'] }),
};

let taskCounts: (() => Promise<{ open: number; overdue: number }>) | undefined;

/** Tasks open and overdue are read from the database when scraped. */
export function watchTasks(source: () => Promise<{ open: number; overdue: number }>): void {
  taskCounts = source;
}

const tasksOpen = new Gauge({
  name: 'nurture_tasks_open', help: 'Approval tasks waiting for a decision',
  async collect() { if (taskCounts) this.set((await taskCounts()).open); },
});
const tasksOverdue = new Gauge({
  name: 'nurture_tasks_overdue', help: 'Open approval tasks past their due time',
  async collect() { if (taskCounts) this.set((await taskCounts()).overdue); },
});
void tasksOpen;
void tasksOverdue;

export const metricsRegistry = register;

/** The process's own: resident memory, heap, event-loop lag, GC (process_* and nodejs_*). */
collectDefaultMetrics({ register });
