import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asc, eq, sql } from 'drizzle-orm';
import { Client as PgClient } from 'pg';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { auditRecords } from '../../db/schema';
import { keyIdOf } from '../../services/audit/checkpoint-file';
import { CheckpointExists, directorySink } from '../../services/audit/checkpoint-sink';
import { latestCheckpoint, writeCheckpoint, type AuditCheckpointSettings } from '../../services/audit/checkpoints';
import { auditCheckpointScheduleId, syncAuditCheckpointSchedule } from '../../services/audit/jobs';
import { appendAudit, recordHash } from '../../services/audit/records';
import { createVerification, getVerification, LINKS_PER_PAGE, verificationPage } from '../../services/audit/verifications';
import { s3Sink } from '../../services/audit/s3-sink';
import { auditCheckpointWorkflow } from '../../workflows/contract';
import { adminDatabaseUrl } from '../global-setup';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';
import { startS3Receiver } from '../support/s3-receiver';

/**
 * Anchored checkpoints: a Schedule writes signed checkpoints of every chain head to a write-once
 * sink, and a background verification compares the chains with the latest one. The file has a
 * database of its own, so no other test file's chains (some tampered on purpose) are in it.
 */
describe('audit checkpoints', () => {
  const dbName = `nurture_checkpoints_${Date.now()}_${process.pid}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'nurture-checkpoints-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const settings: AuditCheckpointSettings = {
    sink: directorySink(dir), privateKey, publicKey, keyId: keyIdOf(publicKey), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
  let h: Harness;
  /** The table's owner (the superuser that migrated this database): what an attacker with the owner's credentials can do. */
  let owner: DatabaseHandle;
  const chains: Record<'rewritten' | 'cut' | 'gone' | 'kept', string> = { rewritten: '', cut: '', gone: '', kept: '' };

  const admin = async (statement: string) => {
    const c = new PgClient({ connectionString: adminDatabaseUrl() });
    await c.connect();
    try { await c.query(statement); } finally { await c.end(); }
  };

  beforeAll(async () => {
    await admin(`create database "${dbName}"`);
    const url = new URL(adminDatabaseUrl());
    url.pathname = `/${dbName}`;
    owner = await openDatabase({ url: url.toString(), poolSize: 2 });
    await owner.migrate();
    h = await startHarness({ databaseUrl: url.toString(), auditCheckpoints: settings });
  });
  afterAll(async () => {
    await h?.client.schedule.getHandle(auditCheckpointScheduleId(h.taskQueue)).delete().catch(() => undefined);
    await h?.stop();
    await owner?.close();
    await admin(`drop database if exists "${dbName}" with (force)`);
  });

  async function enrolmentChain(): Promise<string> {
    const key = await h.publish({ steps: [
      { id: 'hello', type: 'send_email', subject: 'Hello', text: 'Hi', next: 'tag' },
      { id: 'tag', type: 'update_contact', addTags: ['anchored'] },
    ] });
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('anchor') } });
    await h.result(e.body.workflowId);
    return `enrolment:${e.body.id}`; // 4 records: started, email.sent, contact.updated, completed
  }

  async function verification(): Promise<any> {
    const started = await h.api('POST', '/v1/audit/verifications');
    expect(started).toMatchObject({ status: 202, body: { status: 'running' } });
    expect(started.headers.get('location')).toBe(`/v1/audit/verifications/${started.body.id}`);
    return eventually(async () => {
      const v = (await h.api('GET', `/v1/audit/verifications/${started.body.id}`)).body;
      return v.status !== 'running' && v;
    }, 60_000);
  }

  const files = () => readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();

  it('the Schedule writes a signed checkpoint of every chain head that openssl verifies with the published key', async () => {
    for (const name of Object.keys(chains) as Array<keyof typeof chains>) chains[name] = await enrolmentChain();
    // A chain longer than a page: the verification reads it over two pages of links.
    const contactId = (await h.api('POST', '/v1/contacts', { email: uniqueEmail('long') })).body.id as string;
    for (let i = 0; i < LINKS_PER_PAGE + 50; i++) {
      await appendAudit(h.database.db, { actor: 'test', action: 'test.filled', outcome: 'ok', contactId, idempotencyKey: `fill:${contactId}:${i}` });
    }

    const deps = { temporal: h.client, taskQueue: h.taskQueue };
    await syncAuditCheckpointSchedule(deps, 3_600_000);
    await syncAuditCheckpointSchedule(deps, 3_600_000); // every worker start: an update, not a second Schedule
    const schedule = h.client.schedule.getHandle(auditCheckpointScheduleId(h.taskQueue));
    const described = await schedule.describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'auditCheckpointWorkflow', taskQueue: h.taskQueue });
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 3_600_000 })]);
    await schedule.trigger();
    await schedule.pause('one checkpoint is enough here'); // no hourly run during the test
    const sealed = () => files().length === 1 && readFileSync(path.join(dir, files()[0]!), 'utf8').endsWith('"algorithm":"Ed25519(SHA-256(lines above))"}\n');
    const [name] = await eventually(async () => sealed() && files(), 60_000);

    const file = path.join(dir, name!);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    const [header, ...rest] = lines;
    const [summary, seal] = rest.splice(-2);
    expect(header).toMatchObject({ format: 'nurture-audit-checkpoint/1', keyId: settings.keyId });
    const { rows } = await owner.db.execute(sql`select distinct on (chain) chain, seq, hash from audit_records order by chain, seq desc`) as unknown as { rows: Array<{ chain: string; seq: number; hash: string }> };
    expect(rest).toEqual(rows.map((r) => ({ chain: r.chain, seq: r.seq, hash: r.hash, records: r.seq })));
    expect(rest.find((head) => head.chain === chains.kept)).toMatchObject({ seq: 4, records: 4 });
    const headLines = readFileSync(file, 'utf8').split('\n').slice(1, 1 + rest.length).map((l) => `${l}\n`).join('');
    expect(summary).toEqual({ chains: rest.length, records: rest.reduce((n, head) => n + head.records, 0), headsDigest: createHash('sha256').update(headLines).digest('hex') });

    // The auditor's check (docs/compliance.md): the key's id, then the signature over the lines above the seal.
    const keyFile = path.join(dir, 'keys', `${settings.keyId}.pem`);
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', keyFile, '-outform', 'DER']);
    expect(createHash('sha256').update(der).digest('hex').slice(0, 16)).toBe(settings.keyId);
    const work = mkdtempSync(path.join(tmpdir(), 'nurture-auditor-'));
    execFileSync('bash', ['-c', `sed '$d' "${file}" | openssl dgst -sha256 -binary > "${work}/body.sha256"`]);
    writeFileSync(path.join(work, 'checkpoint.sig'), Buffer.from(seal.signature, 'base64'));
    const verified = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', keyFile, '-rawin', '-in', `${work}/body.sha256`, '-sigfile', `${work}/checkpoint.sig`], { encoding: 'utf8' });
    expect(verified).toContain('Signature Verified Successfully');
    // A changed byte and the signature no longer holds.
    const body = readFileSync(file, 'utf8').split('\n').slice(0, -2).join('\n');
    const forged = body.replace(`"seq":4,`, '"seq":3,');
    const check = (text: string) => verify(null, createHash('sha256').update(`${text}\n`).digest(), createPublicKey(readFileSync(keyFile)), Buffer.from(seal.signature, 'base64'));
    expect([check(body), check(forged)]).toEqual([true, false]);
  });

  it('the sink refuses to overwrite a checkpoint or a published key', async () => {
    const [name] = files();
    const before = readFileSync(path.join(dir, name!));
    await expect(settings.sink.create(name!)).rejects.toBeInstanceOf(CheckpointExists);
    expect(readFileSync(path.join(dir, name!))).toEqual(before);
    await expect(settings.sink.publishKey(settings.keyId, 'another key')).rejects.toBeInstanceOf(CheckpointExists);
  });

  it('an untampered database verifies ok against the latest checkpoint, in a background job over several pages', async () => {
    const report = await verification();
    expect(report).toMatchObject({
      status: 'completed', ok: true, unchained: 0, findings: [], findingsTotal: 0, error: null,
      checkpoint: { name: files().at(-1), location: dir, keyId: settings.keyId, valid: true },
    });
    expect(report.records).toBeGreaterThan(LINKS_PER_PAGE);
    expect(report.pages).toBeGreaterThanOrEqual(4); // start, heads, two pages of links
    expect((await h.api('GET', '/v1/audit/verify')).body).toMatchObject({ id: report.id, ok: true });
  });

  it('an S3-compatible bucket takes each checkpoint once, with If-None-Match and object lock, and verifies from it', async () => {
    const s3 = await startS3Receiver();
    try {
      const sink = s3Sink({
        bucket: 'audit', prefix: 'nurture/', region: 'eu-west-1', endpoint: s3.endpoint,
        objectLock: { mode: 'COMPLIANCE', days: 30 }, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      });
      const inBucket = { ...settings, sink };
      const written = await writeCheckpoint(owner.db, inBucket);
      const put = s3.objects.get(`audit/nurture/${written.name}`)!;
      expect(put.headers).toMatchObject({ 'if-none-match': '*', 'x-amz-object-lock-mode': 'COMPLIANCE' });
      const retainUntil = Date.parse(String(put.headers['x-amz-object-lock-retain-until-date']));
      expect(retainUntil - Date.now()).toBeGreaterThan(29 * 86_400_000);
      expect(s3.objects.get(`audit/nurture/keys/${settings.keyId}.pem`)!.body.toString()).toBe(settings.publicKeyPem);
      expect(s3.requests.every((r) => String(r.headers.authorization).includes('/eu-west-1/s3/aws4_request'))).toBe(true);

      const before = put.body;
      const again = await sink.create(written.name);
      await again.write('{"forged":true}\n');
      await expect(again.close()).rejects.toBeInstanceOf(CheckpointExists);
      expect(s3.objects.get(`audit/nurture/${written.name}`)!.body).toEqual(before);

      expect((await latestCheckpoint(inBucket))).toMatchObject({ name: written.name, check: { summary: { chains: written.chains } } });
      const row = await createVerification(owner.db, 'test');
      for (let page = 0, done = false; !done;) ({ page, done } = await verificationPage(owner.db, inBucket, row.id, page));
      expect((await getVerification(owner.db, row.id)).report).toMatchObject({ ok: true, checkpoint: { name: written.name, location: 's3://audit/nurture/', valid: true } });
    } finally {
      await s3.close();
    }
  });

  it('tampering as the table owner is found against the checkpoint: a rewrite with recomputed hashes, a deleted tail, a deleted chain', async () => {
    const checkpointed = files().at(-1)!;
    const heads = new Map(readFileSync(path.join(dir, checkpointed), 'utf8').trim().split('\n').slice(1, -2)
      .map((l) => JSON.parse(l) as { chain: string; seq: number; hash: string; records: number }).map((head) => [head.chain, head]));
    await owner.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`); // the owner may switch the append-only triggers off
      // Rewrite what the email step recorded, then recompute every hash from there on, as a careful attacker would.
      await tx.execute(sql`update audit_records set details = '{"rewritten":true}' where chain = ${chains.rewritten} and seq = 2`);
      const rows = await tx.select().from(auditRecords).where(eq(auditRecords.chain, chains.rewritten)).orderBy(asc(auditRecords.seq));
      let prevHash: string | null = null;
      for (const r of rows) {
        const hash = recordHash({ ...r, prevHash });
        await tx.execute(sql`update audit_records set prev_hash = ${prevHash}, hash = ${hash} where id = ${r.id}`);
        prevHash = hash;
      }
      await tx.execute(sql`delete from audit_records where chain = ${chains.cut} and seq > 2`);
      await tx.execute(sql`delete from audit_records where chain = ${chains.gone}`);
    });
    // The links alone no longer tell: every chain that is left is whole.
    for (const chain of [chains.rewritten, chains.cut]) {
      expect((await h.api('GET', `/v1/audit/verify?chain=${encodeURIComponent(chain)}`)).body).toMatchObject({ ok: true });
    }

    const report = await verification();
    expect(report).toMatchObject({ status: 'completed', ok: false, findingsTotal: 3, checkpoint: { name: checkpointed, valid: true } });
    const byChain = Object.fromEntries(report.findings.map((f: { chain: string }) => [f.chain, f]));
    expect(byChain[chains.rewritten]).toMatchObject({
      reason: 'head_mismatch', checkpoint: { seq: 4, hash: heads.get(chains.rewritten)!.hash, records: 4 }, found: { seq: 4, records: 4 },
    });
    expect(byChain[chains.rewritten].found.hash).not.toBe(heads.get(chains.rewritten)!.hash);
    expect(byChain[chains.cut]).toMatchObject({ reason: 'tail_deleted', checkpoint: { seq: 4, records: 4 }, found: { seq: 2, hash: null, records: 2 } });
    expect(byChain[chains.gone]).toMatchObject({ reason: 'chain_missing', checkpoint: { seq: 4 }, found: { seq: null, records: 0 } });
    expect(byChain[chains.kept]).toBeUndefined();
    expect((await h.api('GET', '/v1/audit/verify')).body).toMatchObject({ id: report.id, ok: false, findingsTotal: 3 });

    // The next scheduled checkpoint refuses to anchor the tampered chains: the last good one stays the latest.
    const run = await h.client.workflow.start(auditCheckpointWorkflow, { taskQueue: h.taskQueue, workflowId: `checkpoint-after-tampering:${dbName}` });
    await expect(run.result()).rejects.toMatchObject({ cause: { cause: { message: expect.stringContaining(`${chains.rewritten} head_mismatch`) } } });
    expect(files().at(-1)).toBe(checkpointed);
  });
});
