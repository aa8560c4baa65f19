import { sql } from 'drizzle-orm';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** A run's record as CSV and as the printable page, on the real stack, with hostile titles, names and answers. */
describe('process run exports', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('exports CSV (formula-safe) and a printable page (escaped, with hashes and verification) beside JSON', async () => {
    const created = await h.api('POST', '/v1/users', { email: uniqueEmail('eve'), name: '<img src=x onerror=alert(1)>Eve', roles: [] });
    const key = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: created.body.id });
    const eve = { authorization: `Bearer ${key.body.key}` };
    const processKey = uniqueKey('proof');
    await h.api('POST', '/v1/processes', { key: processKey, name: 'Proof <b>run</b>', definition: {
      inputs: [{ name: 'paid', label: 'Paid', type: 'checkbox' }],
      sections: [
        { title: '=cmd|calc!A1', tasks: [
          { id: 'brief', kind: 'form', title: '@SUM(1+1)<script>alert(1)</script>', assignee: { user: created.body.email },
            fields: [{ name: 'note', label: 'Note', type: 'text' }] },
        ] },
        { title: 'Launch', tasks: [
          { id: 'budget', kind: 'checklist', title: '+budget', when: { field: 'run.inputs.paid', op: 'eq', value: true } },
          { id: 'go', kind: 'approval', title: '-go, "now"', approvers: [{ userId: created.body.id }], after: ['brief'] },
        ] },
      ],
    } });
    expect((await h.api('POST', `/v1/processes/${processKey}/publish`)).status).toBe(201);
    const run = (await h.api('POST', `/v1/processes/${processKey}/runs`, { inputs: { paid: false } })).body;
    const base = `/v1/processes/${processKey}/runs/${run.id}`;
    await eventually(async () => (await h.api('GET', base)).body.progress.next?.taskId === 'brief');
    expect((await h.api('POST', `${base}/tasks/brief/complete`, { action: 'complete', values: { note: '=1+2' } }, eve)).status).toBe(200);
    await eventually(async () => (await h.api('GET', base)).body.progress.next?.taskId === 'go');
    expect((await h.api('POST', `${base}/tasks/go/complete`, { action: 'approve', comment: '<i>ok</i>' }, eve)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 2, total: 2 });

    const json = await h.api('GET', `${base}/export?format=json`);
    expect(json.body.people[created.body.id]).toEqual({ name: created.body.name, email: created.body.email });

    const csv = await h.api('GET', `${base}/export?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="${processKey}-${run.id}.csv"`);
    const lines = String(csv.body).split('\r\n');
    expect(lines[0]).toBe('record,section,task,title,status,by,at,due_at,overdue_at,seq,action,outcome,hash');
    // Each hostile cell starts with an apostrophe, so no spreadsheet runs it.
    const taskLines = lines.filter((l) => l.startsWith('task,'));
    expect(taskLines[0]).toMatch(/^task,'=cmd\|calc!A1,brief,'@SUM\(1\+1\)<script>alert\(1\)<\/script>,done,/);
    expect(taskLines[1]).toMatch(/^task,Launch,budget,'\+budget,skipped,/);
    expect(taskLines[2]).toMatch(/^task,Launch,go,"'-go, ""now""",approved,/);
    expect(lines.some((l) => /^decision,Launch,go,.*,approve,/.test(l))).toBe(true);
    const audits = lines.filter((l) => l.startsWith('audit,'));
    expect(audits).toHaveLength(json.body.audit.length);
    expect(audits[0]).toContain(json.body.audit[0].hash);
    expect(lines).toContain(`verification,,,,ok,,,,,${json.body.verification.records},process:${run.id},,`);
    expect(lines.every((l) => !/(^|,)[=+\-@]/.test(l))).toBe(true);

    const html = await h.api('GET', `${base}/export?format=html`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toContain("default-src 'none'");
    const text = String(html.body);
    expect(text).not.toMatch(/<script>|<img|<b>run|<i>ok/);
    expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;Eve');
    expect(text).toContain('Proof &lt;b&gt;run&lt;/b&gt;');
    expect(text).toContain('data-ok="true"');
    expect(text).toContain('Skipped: its condition was false');
    for (const r of json.body.audit) expect(text).toContain(r.hash);

    // The browser twin of the export takes HTTP Basic; the /v1 one does not, and an approver key may not export.
    const basic = { authorization: `Basic ${Buffer.from(`x:${h.keys.service}`).toString('base64')}` };
    expect((await h.api('GET', `/processes/${processKey}/runs/${run.id}/export?format=csv`, undefined, basic)).body).toBe(csv.body);
    expect((await h.api('GET', `${base}/export?format=csv`, undefined, basic)).status).toBe(401);
    expect((await h.api('GET', `${base}/export?format=html`, undefined, eve)).status).toBe(403);
    const badFormat = await h.api('GET', `${base}/export?format=xlsx`);
    expect(badFormat.status).toBe(400);
    expect(JSON.stringify(badFormat.body)).toContain('format');

    // A record altered behind the API's back (a superuser bypassing the triggers) shows as a broken chain in every format.
    await h.admin.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`update audit_records set outcome = 'forged' where chain = ${`process:${run.id}`} and seq = 2`);
    });
    expect((await h.api('GET', `${base}/export`)).body.verification).toMatchObject({ ok: false, firstBroken: { seq: 2, reason: 'hash_mismatch' } });
    expect(String((await h.api('GET', `${base}/export?format=csv`)).body)).toContain(`verification,,,,broken,,,,,`);
    const broken = String((await h.api('GET', `${base}/export?format=html`)).body);
    expect(broken).toContain('data-ok="false"');
    expect(broken).toContain('BROKEN at record 2 (hash_mismatch)');
  });
});
