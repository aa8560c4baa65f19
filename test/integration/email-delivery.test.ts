import { eq } from 'drizzle-orm';
import pino from 'pino';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { outgoingEmails } from '../../db/schema';
import { upsertContact } from '../../services/contacts/contacts';
import { deliverEmail as deliver, type EmailRequest, type EmailSettings } from '../../services/email/delivery';
import { createMailer, type Mailer } from '../../services/email/mailer';
import { testEnvironment } from '../support/env';
import { uniqueEmail } from '../support/harness';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';

const settings: EmailSettings = {
  from: 'Nurture <n@nurture.test>', publicUrl: 'http://127.0.0.1:1', signingSecret: 'x'.repeat(32), tracking: false, consentMode: 'opt_out',
};
const deliverEmail = (db: DatabaseHandle['db'], mailer: Mailer, req: EmailRequest) => deliver(db, mailer, settings, req);

/** The send ledger on real Postgres and a real SMTP server: one key, one message. */
describe('email delivery is exactly once per idempotency key', () => {
  let database: DatabaseHandle;
  let smtp: SmtpSink;
  let mailer: Mailer;
  beforeAll(async () => {
    database = await openDatabase({ url: testEnvironment().databaseUrl, poolSize: 3 });
    smtp = await startSmtpSink();
    mailer = createMailer(smtp.url, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    mailer?.close();
    await smtp?.close();
    await database?.close();
  });

  async function request(key: string): Promise<{ req: EmailRequest; to: string }> {
    const to = uniqueEmail('ledger');
    const { contact } = await upsertContact(database.db, { email: to, firstName: 'Lin' });
    return { to, req: { idempotencyKey: key, contactId: contact.id, content: { subject: 'Hi {{ contact.firstName }}', text: 'Body' } } };
  }

  it('a retry with the same key sends nothing and returns the first result', async () => {
    const { req, to } = await request(`test:${Date.now()}:a`);
    const first = await deliverEmail(database.db, mailer, req);
    const second = await deliverEmail(database.db, mailer, req);
    expect(first).toMatchObject({ status: 'sent', replayed: false });
    // The result goes into the run's history: it names no address (the ledger row does).
    expect(first).not.toHaveProperty('to');
    expect(second).toMatchObject({ status: 'sent', replayed: true, providerMessageId: first.providerMessageId });
    expect(smtp.to(to)).toHaveLength(1);
    expect(smtp.to(to)[0]!.parsed.subject).toBe('Hi Lin');
  });

  it('a clean SMTP failure is retried and sent once; a send that died mid-way is never resent', async () => {
    const { req, to } = await request(`test:${Date.now()}:b`);
    const broken = createMailer('smtp://127.0.0.1:1', pino({ level: 'silent' }));
    await expect(deliverEmail(database.db, broken, req)).rejects.toThrow();
    broken.close();
    const [afterFailure] = await database.db.select().from(outgoingEmails).where(eq(outgoingEmails.idempotencyKey, req.idempotencyKey));
    expect(afterFailure!.status).toBe('retry');
    expect(await deliverEmail(database.db, mailer, req)).toMatchObject({ status: 'sent', replayed: false });
    expect(smtp.to(to)).toHaveLength(1);

    const crashed = await request(`test:${Date.now()}:c`);
    // An attempt that claimed the row and died before settling it (e.g. kill -9 mid-send).
    const dying: Mailer = { mode: 'smtp', close() {}, send: () => new Promise(() => undefined) };
    void deliverEmail(database.db, dying, crashed.req);
    await new Promise((r) => setTimeout(r, 300));
    expect(await deliverEmail(database.db, mailer, crashed.req)).toMatchObject({ status: 'unknown', reason: 'interrupted_mid_send' });
    expect(smtp.to(crashed.to)).toHaveLength(0);
  });
});
