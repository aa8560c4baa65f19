/**
 * Runs the hot statements (db/queries/, compiled by db/statements.ts) on embedded PGlite and
 * prints what came back as JSON, for test/integration/pglite-statements.test.ts: PGlite loads
 * its WebAssembly with a dynamic import that Jest's module sandbox refuses, so it runs in its
 * own process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { openDatabase } from '../../db/client';
import { enrolments } from '../../db/schema';
import { appendAudit } from '../../services/audit/records';
import { verifyAllChains } from '../../services/audit/verifications';
import { upsertContact } from '../../services/contacts/contacts';
import { recordProgress } from '../../services/enrolment/progress';
import { enrolmentTarget, insertEnrolments, newEnrolment } from '../../services/enrolment/rows';
import { createJourney, publishJourney } from '../../services/journeys/journeys';

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'nurture-pglite-'));
  const handle = await openDatabase({ pgliteDir: dir });
  try {
    await handle.migrate();
    const { db } = handle;
    await createJourney(db, { key: 'embedded', name: 'Embedded', definition: { steps: [{ id: 'w', type: 'wait', duration: '1h' }] } });
    await publishJourney(db, 'embedded');
    const target = await enrolmentTarget(db, 'embedded');
    const a = (await upsertContact(db, { email: 'a@pglite.test' })).contact.id;
    const b = (await upsertContact(db, { email: 'b@pglite.test' })).contact.id;
    await upsertContact(db, { email: 'B@pglite.test', firstName: 'Bea', tags: ['vip', 'a,"b"'], attributes: { plan: 'pro', seats: 3 } });
    const merged = await upsertContact(db, { email: 'b@pglite.test', lastName: 'Lee', tags: ['vip', 'new'], attributes: { seats: 4 } });
    const rows = [newEnrolment(target, a, 1, 'key "quoted", {braced}'), newEnrolment(target, b, 1)];
    const first = await insertEnrolments(db, target, rows, 'api') as Set<string>;
    const again = await insertEnrolments(db, target, rows, 'api') as Set<string>;
    const [stored] = await db.select().from(enrolments).where(eq(enrolments.contactId, a));
    const entry = {
      actor: 'journey', action: 'wait.started', outcome: 'waiting', enrolmentId: rows[0]!.id, contactId: a,
      stepId: 'w', stepType: 'wait', idempotencyKey: `${rows[0]!.workflowId}:w:1`, details: { until: 'later', nested: { list: [1, 'two'] } },
    };
    const appended = await appendAudit(db, entry, { currentStep: 'w' });
    const [moved] = await db.select().from(enrolments).where(eq(enrolments.id, rows[0]!.id));
    const retried = await appendAudit(db, { ...entry, outcome: 'changed' }, { currentStep: 'w' });
    await recordProgress(db, rows[0]!.id, { status: 'completed', currentStep: null });
    const [ended] = await db.select().from(enrolments).where(eq(enrolments.id, rows[0]!.id));
    console.log(JSON.stringify({
      planned: rows.map((r) => ({ id: r.id, startedAt: r.startedAt })), inserted: [...first], insertedAgain: [...again],
      merged, stored, appended, movedTo: moved?.currentStep, retried, entryDetails: entry.details, ended, verified: await verifyAllChains(db),
    }));
  } finally {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
