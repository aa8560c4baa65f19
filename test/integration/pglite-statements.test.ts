import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The hot statements (db/queries/) are compiled once and run on the driver itself
 * (db/statements.ts): over node-postgres everywhere else in the suite, here over the embedded
 * PGlite of `npm start` without DATABASE_URL, where arrays, JSON and timestamps travel differently.
 */
describe('compiled statements on embedded PGlite', () => {
  it('upserts contacts, enrols, appends chained records with progress, and the chains verify', async () => {
    const script = path.join(__dirname, '../support/pglite-statements.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: path.join(__dirname, '../..') });
    const r = JSON.parse(stdout.trim().split('\n').pop()!);

    // The upsert merged into the contact: attributes merged, tags added, left-out fields kept.
    expect(r.merged).toMatchObject({ created: false, contact: {
      email: 'b@pglite.test', firstName: 'Bea', lastName: 'Lee', tags: ['a,"b"', 'new', 'vip'], attributes: { plan: 'pro', seats: 4 }, lifecycleStage: 'subscriber', score: 0,
    } });
    expect(r.inserted.sort()).toEqual(r.planned.map((p: { id: string }) => p.id).sort());
    expect(r.insertedAgain).toEqual([]); // the same rows again are left out, with their records
    expect(r.stored).toMatchObject({ id: r.planned[0].id, idempotencyKey: 'key "quoted", {braced}', status: 'running', startedAt: r.planned[0].startedAt });
    expect(r.appended).toEqual({ appended: true });
    expect(r.movedTo).toBe('w');
    expect(r.retried).toEqual({ appended: false, existing: { outcome: 'waiting', details: r.entryDetails } });
    expect(r.ended).toMatchObject({ status: 'completed', currentStep: null, endedAt: expect.any(String) });
    expect(r.verified).toMatchObject({ ok: true, chains: 2, records: 3 });
  });
});
