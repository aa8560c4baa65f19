import { sql } from 'drizzle-orm';
import type { Database } from './client';

/** Powers over the audit trail beyond adding and reading records. */
export type AuditTrailPower = 'superuser' | 'owner' | 'UPDATE' | 'DELETE' | 'TRUNCATE' | 'TRIGGER' | 'REFERENCES';

/**
 * What the connected role could do to audit_records besides INSERT and SELECT: nothing for the
 * runtime role of deploy/postgres/roles.sql; a superuser or the owner (or a member of the owner
 * role) can alter the table, disable its triggers and rewrite records. Undefined before the
 * migrations created the table.
 */
export async function auditTrailPowers(db: Database): Promise<AuditTrailPower[] | undefined> {
  const result = await db.execute(sql`
    select r.rolsuper as superuser, pg_has_role(c.relowner, 'MEMBER') as owner,
      has_table_privilege(c.oid, 'UPDATE') as "UPDATE", has_table_privilege(c.oid, 'DELETE') as "DELETE",
      has_table_privilege(c.oid, 'TRUNCATE') as "TRUNCATE", has_table_privilege(c.oid, 'TRIGGER') as "TRIGGER",
      has_table_privilege(c.oid, 'REFERENCES') as "REFERENCES"
    from pg_roles r, pg_class c
    where r.rolname = current_user and c.oid = to_regclass('public.audit_records')`) as unknown as { rows: Array<Record<AuditTrailPower, boolean>> };
  const [row] = result.rows;
  if (!row) return undefined;
  return (Object.keys(row) as AuditTrailPower[]).filter((power) => row[power]);
}
