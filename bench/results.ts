import http from 'node:http';
import { sql } from 'drizzle-orm';
import type { BenchContext } from './enrolment';
import { log, percentile, timed } from './support';

/** Enrolments' worth of audit records per statement: each statement's trigger events are queued until it ends. */
const PER_STATEMENT = 2_000;

/**
 * `records` audit records of one journey version, five per enrolment (started, split, email, wait,
 * an end for half of them), bulk-inserted with generate_series as the superuser, in the order a
 * journey writes them. They go through the results trigger like any append: returns records/s.
 */
async function fillAudit({ h }: BenchContext, key: string, records: number): Promise<number> {
  const enrolments = Math.ceil(records / 4.5);
  // The admin pool holds one connection: the bulk statements may take longer than the default limit.
  await h.admin.db.execute(sql`set statement_timeout = 0`);
  const seconds = await timed(async () => {
    for (let from = 1; from <= enrolments; from += PER_STATEMENT) {
      const to = Math.min(enrolments, from + PER_STATEMENT - 1);
      await h.admin.db.execute(sql`
        insert into audit_records (actor, action, outcome, journey_key, journey_version, enrolment_id, step_id, step_type, details)
        select 'journey', r.action, r.outcome, ${key}, 1, md5(${key} || e)::uuid, r.step_id, r.step_type, r.details
        from generate_series(${from}::int, ${to}::int) e
        cross join lateral (values
          (1, 'enrolment.started', 'started', null, null, '{}'::jsonb),
          (2, 'split.assigned', case when e % 2 = 0 then 'a' else 'b' end, 'ab', 'split', '{}'::jsonb),
          (3, case when e % 10 = 0 then 'email.skipped' else 'email.sent' end, 'sent', case when e % 2 = 0 then 'mail_a' else 'mail_b' end, 'send_email', '{"reason": "no_consent"}'::jsonb),
          (4, 'wait_for_event.started', 'waiting', 'hold', 'wait_for_event', '{}'::jsonb),
          (5, case when e % 3 = 0 then 'enrolment.converted' else 'enrolment.exited' end, 'ended', null, null, '{"reason": "unsubscribed"}'::jsonb)
        ) as r(k, action, outcome, step_id, step_type, details)
        where r.k < 5 or e % 2 = 0
        order by e, r.k`);
      if (to % 20_000 === 0 || to === enrolments) log(`results: ${to} of ${enrolments} enrolments' audit records in`);
    }
  });
  const [row] = (await h.admin.db.execute(sql`select count(*)::int as n from audit_records where journey_key = ${key}`) as unknown as { rows: Array<{ n: number }> }).rows;
  log(`results: ${row!.n} audit records in ${seconds.toFixed(1)} s through the trigger`);
  return row!.n / seconds;
}

/** Milliseconds per GET of `path` (keep-alive, one at a time): p50 and p99 of `n` after a warm-up. */
async function latency(baseUrl: string, path: string, apiKey: string, n: number): Promise<{ p50: number; p99: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () => new Promise<void>((resolve, reject) => {
    http.get(`${baseUrl}${path}`, { agent, headers: { authorization: `Bearer ${apiKey}` } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode}`))));
    }).on('error', reject);
  });
  for (let i = 0; i < 20; i++) await get();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push((await timed(get)) * 1000);
  agent.destroy();
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/**
 * The stats route and the results page of a journey with `records` audit records (BENCH_RESULTS_RECORDS,
 * default 1,000,000), against the rescan the counters replace: the per-step entered count alone,
 * counted from the audit (the former route ran it and five more such queries per version).
 */
export async function resultsAtScale(ctx: BenchContext, records: number): Promise<void> {
  const { h, results } = ctx;
  const key = await h.publish({
    goal: { event: 'purchased' }, exits: [{ event: 'unsubscribed', reason: 'unsubscribed' }],
    steps: [
      { id: 'ab', type: 'split', variants: [{ id: 'a', weight: 1, next: 'mail_a' }, { id: 'b', weight: 1, next: 'mail_b' }] },
      { id: 'mail_a', type: 'send_email', subject: 'A', text: 'a', next: 'hold' },
      { id: 'mail_b', type: 'send_email', subject: 'B', text: 'b', next: 'hold' },
      { id: 'hold', type: 'wait_for_event', event: 'never', timeout: '30d' },
    ],
  });
  const rate = await fillAudit(ctx, key, records);
  const total = records.toLocaleString('en');
  await h.admin.db.execute(sql`analyze audit_records`);
  const rescan = await timed(() => h.admin.db.execute(sql`
    select step_id, count(distinct enrolment_id) from audit_records
    where journey_key = ${key} and journey_version = 1 and not test and step_id is not null group by step_id`));
  const stats = await latency(h.baseUrl, `/v1/journeys/${key}/stats`, h.keys.service, 200);
  const page = await latency(h.baseUrl, `/journeys/${key}`, h.keys.service, 200);
  log('results', { recordsPerSecondThroughTrigger: Math.round(rate), stats, page, rescanMs: rescan * 1000 });
  results.ceiling(`results: stats route p99 with ${total} audit records (ms)`, stats.p99, rescan * 1000, 'ms', 50);
  results.ceiling(`results: results page p99 with ${total} audit records (ms)`, page.p99, rescan * 1000, 'ms', 50);
}
