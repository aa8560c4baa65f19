import { asc, eq, sql } from 'drizzle-orm';
import { assign } from '../../journey-language';
import { auditRecords, resultCounters } from '../../db/schema';
import { appendAudit } from '../../services/audit/records';
import { lift, wilson } from '../../services/journeys/stats';
import { recountResults } from '../support/results-recount';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';

type Enrolled = { id: string; contactId: string; workflowId: string; email: string };

/** Journey results match a scripted set of enrolments exactly, and a recount from the audit. */
describe('journey results', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  /** The journey's counters as they are stored (zeros left out), keyed as recountResults keys them. */
  async function storedCounters(key: string): Promise<Map<string, number>> {
    const rows = await h.admin.db.select().from(resultCounters).where(eq(resultCounters.journeyKey, key));
    return new Map(rows.filter((r) => Number(r.n) !== 0).map((r) => [`${r.journeyVersion}|${r.stepId}|${r.metric}|${r.label}`, Number(r.n)]));
  }
  const auditOf = (key: string) => h.admin.db.select().from(auditRecords).where(eq(auditRecords.journeyKey, key)).orderBy(asc(auditRecords.id));

  it('counts per step and variant, with drop-off, lift, emails, skips, opens and clicks, as a recount does', async () => {
    const key = await h.publish({
      goal: { event: 'purchased' },
      exits: [{ event: 'unsubscribed', reason: 'unsubscribed' }],
      steps: [
        { id: 'ab', type: 'split', variants: [{ id: 'a', weight: 1, next: 'mail_a' }, { id: 'b', weight: 1, next: 'mail_b' }] },
        { id: 'mail_a', type: 'send_email', subject: 'A', text: 'a', html: '<p><a href="https://example.test/offer">Offer</a></p>', next: 'hold' },
        { id: 'mail_b', type: 'send_email', subject: 'B', text: 'b', next: 'hold' },
        { id: 'hold', type: 'wait_for_event', event: 'never', timeout: '1h' },
      ],
    });
    const options = [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }];
    const groups: Record<string, Enrolled[]> = { a: [], b: [] };
    while (groups.a!.length < 3 || groups.b!.length < 3) {
      const email = uniqueEmail('stats');
      const c = await h.api('POST', '/v1/contacts', { email });
      const variant = assign(`${key}:ab:${c.body.id}`, options).id;
      if (groups[variant]!.length >= 3) continue;
      // The last of group b denied email: its send is skipped.
      if (variant === 'b' && groups.b!.length === 2) await h.api('POST', '/v1/contacts', { email, consents: [{ status: 'denied', source: 'preference centre' }] });
      groups[variant]!.push({ ...(await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: c.body.id })).body, email });
    }
    const all = [...groups.a!, ...groups.b!];
    await Promise.all(all.map((e) => eventually(async () => (await h.api('GET', `/v1/enrolments/${e.id}`)).body.currentStep === 'hold')));

    // An open (twice: counted once) and a click of the email of a2, who stays in the journey.
    const [message] = await eventually(async () => (h.smtp.to(groups.a![2]!.email).length ? h.smtp.to(groups.a![2]!.email) : undefined));
    const html = String(message!.parsed.html);
    const pixel = /<img src="([^"]+\/t\/o\/[^"]+)"/.exec(html)![1]!;
    const click = /href="([^"]+\/t\/c\/[^"]+)"/.exec(html)![1]!;
    for (const url of [pixel, pixel]) expect((await fetch(url)).status).toBe(200);
    expect((await fetch(click, { redirect: 'manual' })).status).toBe(302);

    const send = (e: { contactId: string }, name: string) => h.api('POST', '/v1/events', { contactId: e.contactId, name });
    await send(groups.a![0]!, 'purchased');
    await send(groups.a![1]!, 'unsubscribed');
    await send(groups.b![0]!, 'purchased');
    await send(groups.b![1]!, 'purchased');
    await Promise.all([groups.a![0]!, groups.a![1]!, groups.b![0]!, groups.b![1]!].map((e) => h.result(e.workflowId)));
    await eventually(async () => (await h.api('GET', `/v1/journeys/${key}/stats`)).body.versions[0].steps.find((s: { stepId: string }) => s.stepId === 'mail_a')?.clicked === 1);

    const stats = (await h.api('GET', `/v1/journeys/${key}/stats`)).body.versions[0];
    expect(stats).toMatchObject({ version: 1, entered: 6, running: 2, completed: 0, converted: 3, cancelled: 0, failed: 0, exited: { total: 1, byReason: { unsubscribed: 1 } } });
    const steps = Object.fromEntries(stats.steps.map((s: { stepId: string }) => [s.stepId, s]));
    expect(stats.steps.map((s: { stepId: string }) => s.stepId)).toEqual(['ab', 'mail_a', 'mail_b', 'hold']);
    const none = { total: 0, byReason: {} };
    expect(steps.ab).toEqual({
      stepId: 'ab', stepType: 'split', entered: 6, waitingNow: 0, completed: 6, dropOff: { count: 0, rate: 0 }, exited: none,
      convertedAfter: 3, emailsSent: 0, skipped: none, opened: 0, clicked: 0,
    });
    expect(steps.mail_a).toMatchObject({ entered: 3, completed: 3, emailsSent: 3, skipped: none, opened: 1, clicked: 1, convertedAfter: 1 });
    expect(steps.mail_b).toMatchObject({ entered: 3, completed: 3, emailsSent: 2, skipped: { total: 1, byReason: { no_consent: 1 } }, opened: 0, convertedAfter: 2 });
    expect(steps.hold).toEqual({
      stepId: 'hold', stepType: 'wait_for_event', entered: 6, waitingNow: 2, completed: 0, dropOff: { count: 6, rate: 1 },
      exited: { total: 1, byReason: { unsubscribed: 1 } }, convertedAfter: 3, emailsSent: 0, skipped: none, opened: 0, clicked: 0,
    });
    expect(stats.variants).toEqual([
      { stepId: 'ab', variant: 'a', holdout: false, enrolments: 3, converted: 1, conversionRate: 0.3333, confidenceInterval: wilson(1, 3), lift: null },
      { stepId: 'ab', variant: 'b', holdout: false, enrolments: 3, converted: 2, conversionRate: 0.6667, confidenceInterval: wilson(2, 3), lift: { versus: 'a', ...lift(2, 3, 1, 3) } },
    ]);

    // The counters are exactly what a recount of the audit from scratch gives.
    const recount = recountResults(await auditOf(key));
    expect(recount.get(`1|mail_a|opened|`)).toBe(1);
    expect(await storedCounters(key)).toEqual(recount);

    // The migration's backfill (the same deltas over the records in order) gives them too.
    await h.admin.db.transaction(async (tx) => {
      await tx.execute(sql`delete from result_counters where journey_key = ${key}`);
      await tx.execute(sql`delete from result_passes where journey_key = ${key}`);
      await tx.execute(sql`select results_backfill(${key})`);
      const rows = await tx.select().from(resultCounters).where(eq(resultCounters.journeyKey, key));
      expect(new Map(rows.filter((r) => Number(r.n) !== 0).map((r) => [`${r.journeyVersion}|${r.stepId}|${r.metric}|${r.label}`, Number(r.n)]))).toEqual(recount);
      tx.rollback();
    }).catch((err: Error) => { if (!/rollback/i.test(err.message)) throw err; });

    // The page shows the same numbers (HTTP Basic with the key as password), drop-off and lift.
    const basic = { authorization: `Basic ${Buffer.from(`:${h.keys.service}`).toString('base64')}` };
    const page = await fetch(`${h.baseUrl}/journeys/${key}`, { headers: basic });
    const html2 = await page.text();
    expect(page.status).toBe(200);
    expect(html2).toContain('<strong id="stat-entered">6</strong>');
    expect(html2).toContain('<strong id="stat-converted">3</strong>');
    expect(html2).toMatch(/data-step="hold">[\s\S]*?<text [^>]*class="count">6<\/text>/);
    expect(html2).toMatch(/data-step-row="hold">[\s\S]*?<td class="c2">6 \(100\.0%\)<\/td>/);
    expect(html2).toMatch(/data-variant="ab:b">[\s\S]*?<td class="lift">\+33\.3 pts/);
    expect(html2).toContain(`href="/journeys/${key}/results.csv"`);
    const challenge = await fetch(`${h.baseUrl}/journeys/${key}`);
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toContain('Basic');

    // The CSV: one figure per line.
    const csv = await fetch(`${h.baseUrl}/journeys/${key}/results.csv`, { headers: basic });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="${key}-results.csv"`);
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe('version,step,variant,metric,reason,value');
    expect(lines).toEqual(expect.arrayContaining([
      '1,,,entered,,6', '1,,,exited,unsubscribed,1', '1,mail_b,,skipped,no_consent,1', '1,mail_a,,opened,,1', '1,hold,,drop_off_rate,,1',
      '1,ab,b,conversion_rate,,0.6667', `1,ab,b,lift,,${lift(2, 3, 1, 3)!.difference}`,
    ]));
    expect((await fetch(`${h.baseUrl}/journeys/${key}/results.csv`)).status).toBe(401);
    expect((await h.api('GET', '/journeys/no-such-journey/results.csv')).status).toBe(404);
  });

  it('stays exact under concurrent appends to the same counters, and counts a retried append once', async () => {
    const key = `concurrent-${Date.now()}`;
    const ids = Array.from({ length: 40 }, (_, i) => `00000000-0000-4000-8000-${String(Date.now() % 1e6).padStart(6, '0')}${String(i).padStart(6, '0')}`);
    const entry = (id: string, i: number, step: string, action: string, outcome: string) => ({
      actor: 'journey', action, outcome, journeyKey: key, journeyVersion: 1, enrolmentId: id, stepId: step, idempotencyKey: `${key}:${id}:${step}`,
      details: { reason: i % 2 ? 'no_consent' : 'suppressed' },
    });
    // Forty enrolments at once through the runtime role's append: each a split, then an email, some twice (a retry).
    await Promise.all(ids.map(async (id, i) => {
      await appendAudit(h.database.db, entry(id, i, 'ab', 'split.assigned', i % 3 ? 'a' : 'b'));
      await appendAudit(h.database.db, entry(id, i, 'mail', i % 4 ? 'email.sent' : 'email.skipped', 'done'));
      if (i % 5 === 0) await appendAudit(h.database.db, entry(id, i, 'mail', 'email.sent', 'done'));
    }));
    const recount = recountResults(await auditOf(key));
    expect(recount.get('1|ab|entered|')).toBe(40);
    expect(recount.get('1|mail|email_sent|')).toBe(30);
    expect(recount.get('1|mail|at|')).toBe(40);
    expect(await storedCounters(key)).toEqual(recount);
  });

  it('computes Wilson intervals', () => {
    expect(wilson(0, 0)).toEqual([0, 0]);
    const [lo, hi] = wilson(50, 100);
    expect(lo).toBeCloseTo(0.4038, 3);
    expect(hi).toBeCloseTo(0.5962, 3);
  });

  it("computes Newcombe's interval for a difference of rates", () => {
    // Newcombe (1998), table II, example (a): 56/70 against 48/80 gives 0.0524 to 0.3339.
    const l = lift(56, 70, 48, 80)!;
    expect(l.difference).toBeCloseTo(0.2, 4);
    expect(l.confidenceInterval[0]).toBeCloseTo(0.0524, 3);
    expect(l.confidenceInterval[1]).toBeCloseTo(0.3339, 3);
    expect(lift(1, 3, 0, 0)).toBeNull();
    expect(lift(1, 3, 0, 3)!.relative).toBeNull();
  });
});
