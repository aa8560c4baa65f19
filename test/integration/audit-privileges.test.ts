import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { auditTrailPowers } from '../../db/roles';
import { appendAudit } from '../../services/audit/records';
import { testEnvironment } from '../support/env';

/** The "Who can change the audit trail" section of docs/compliance.md: its psql queries, in order. */
function auditorQueries(): string[] {
  const doc = readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'compliance.md'), 'utf8');
  const start = doc.indexOf('## Who can change the audit trail');
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

const roleOf = (url: string) => decodeURIComponent(new URL(url).username);

/**
 * Least privilege on the real audit table: the runtime role (the API's and the workers') adds
 * and reads records and is refused every way of changing them; the owner (migrations) is not,
 * which is what anchored checkpoints are for.
 */
describe('who can change the audit trail', () => {
  const env = testEnvironment();
  let runtime: DatabaseHandle;
  let asRuntime: PgClient;
  let asOwner: PgClient;
  let record: { id: number; hash: string };

  beforeAll(async () => {
    runtime = await openDatabase({ url: env.databaseUrl, poolSize: 1 });
    const contactId = randomUUID();
    expect(await appendAudit(runtime.db, { actor: 'test', action: 'privileges.checked', outcome: 'ok', contactId })).toEqual({ appended: true });
    asRuntime = new PgClient({ connectionString: env.databaseUrl });
    asOwner = new PgClient({ connectionString: env.ownerDatabaseUrl });
    await Promise.all([asRuntime.connect(), asOwner.connect()]);
    const found = await asRuntime.query<{ id: string; hash: string }>('select id, hash from audit_records where chain = $1', [`contact:${contactId}`]);
    record = { id: Number(found.rows[0]!.id), hash: found.rows[0]!.hash };
  });
  afterAll(async () => {
    await Promise.all([asRuntime?.end(), asOwner?.end(), runtime?.close()]);
  });

  it('refuses the runtime role every way to change, remove or unprotect a record', async () => {
    expect(await auditTrailPowers(runtime.db)).toEqual([]);
    const refused = (statement: string, message: RegExp) =>
      expect(asRuntime.query(statement)).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(message) });
    // Refused by the grants, before the append-only triggers are reached (their message differs).
    const noGrant = /^permission denied for table audit_records$/;
    await refused(`update audit_records set outcome = 'rewritten' where id = ${record.id}`, noGrant);
    await refused(`delete from audit_records where id = ${record.id}`, noGrant);
    await refused('truncate audit_records', noGrant);
    await refused('create trigger intruder before insert on audit_records for each row execute function audit_records_append_only()', noGrant);
    // Not the owner: no switching the triggers off, dropping them, or changing the table.
    const notOwner = /^must be owner of (table|relation) audit_records$/;
    await refused('alter table audit_records disable trigger user', notOwner);
    await refused('alter table audit_records disable trigger audit_records_no_update', notOwner);
    await refused('drop trigger audit_records_no_update on audit_records', notOwner);
    await refused('alter table audit_records add column intruder text', notOwner);
    await refused('alter table audit_records alter column hash drop not null', notOwner);
    await refused('alter table audit_records rename to audit_records_old', notOwner);
    await refused('drop table audit_records', notOwner);
    // Nor around them: the trigger function, replication mode, the id sequence, the owner's role.
    await refused('create or replace function audit_records_append_only() returns trigger language plpgsql as $$ begin return new; end $$',
      /^(must be owner of function audit_records_append_only|permission denied for schema public)$/);
    await refused('set session_replication_role = replica', /^permission denied to set parameter "session_replication_role"$/);
    await refused(`select setval('audit_records_id_seq', 1)`, /^permission denied for sequence audit_records_id_seq$/);
    await refused(`set role "${roleOf(env.ownerDatabaseUrl)}"`, /^permission denied to set role/);

    // The consent history is append-only for it too (no triggers there: the grants alone).
    const noHistoryGrant = /^permission denied for table consent_history$/;
    await refused(`update consent_history set status = 'granted'`, noHistoryGrant);
    await refused('delete from consent_history', noHistoryGrant);
    await refused('truncate consent_history', noHistoryGrant);
    await refused('alter table consent_history add column intruder text', /^must be owner of table consent_history$/);

    const after = await asRuntime.query<{ hash: string; outcome: string }>('select hash, outcome from audit_records where id = $1', [record.id]);
    expect(after.rows).toEqual([{ hash: record.hash, outcome: 'ok' }]);
  });

  it('lets the owner switch the triggers off and rewrite or delete a record (rolled back here)', async () => {
    const owner = await openDatabase({ url: env.ownerDatabaseUrl, poolSize: 1 });
    try {
      expect(await auditTrailPowers(owner.db)).toEqual(expect.arrayContaining(['owner', 'UPDATE', 'DELETE', 'TRUNCATE']));
    } finally {
      await owner.close();
    }
    await asOwner.query('begin');
    try {
      await asOwner.query('alter table audit_records disable trigger user');
      expect((await asOwner.query(`update audit_records set outcome = 'rewritten' where id = $1`, [record.id])).rowCount).toBe(1);
      expect((await asOwner.query('delete from audit_records where id = $1', [record.id])).rowCount).toBe(1);
    } finally {
      await asOwner.query('rollback');
    }
    const kept = await asRuntime.query<{ hash: string; outcome: string }>('select hash, outcome from audit_records where id = $1', [record.id]);
    expect(kept.rows).toEqual([{ hash: record.hash, outcome: 'ok' }]);
  });

  it("answers the auditor's queries of docs/compliance.md: only the owner and superusers can change it, the triggers are on", async () => {
    const [grants, triggers] = auditorQueries();
    expect(grants).toBeDefined();
    expect(triggers).toBeDefined();
    const superuser = new PgClient({ connectionString: env.superuserDatabaseUrl });
    await superuser.connect();
    try {
      const rows = (await superuser.query<Record<string, unknown>>(grants!)).rows;
      expect(rows.filter((r) => r.role === roleOf(env.databaseUrl))).toEqual(['audit_records', 'consent_history'].map((table) => ({
        table, role: roleOf(env.databaseUrl), superuser: false, owner: false, select: true, insert: true,
        update: false, delete: false, truncate: false, trigger: false, references: false,
      })));
      expect(rows.filter((r) => r.role === roleOf(env.ownerDatabaseUrl))).toEqual([
        expect.objectContaining({ table: 'audit_records', superuser: false, owner: true }),
        expect.objectContaining({ table: 'consent_history', superuser: false, owner: true }),
      ]);
      expect(rows.filter((r) => r.superuser).every((r) => r.owner)).toBe(true);
      const on = (await superuser.query<{ trigger: string; enabled: string }>(triggers!)).rows;
      expect(on).toEqual([
        { trigger: 'audit_records_no_truncate', enabled: 'yes' }, { trigger: 'audit_records_no_update', enabled: 'yes' },
        { trigger: 'audit_records_results', enabled: 'yes' },
      ]);
    } finally {
      await superuser.end();
    }
  });
});
