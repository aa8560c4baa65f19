import { lookup } from 'node:dns/promises';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { webhookDeliveries } from '../../db/schema';
import { startHarness, TEST_SECRETS, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** Names this test's resolver answers (no DNS here): one the operator allowed, two that hide loopback. */
const ALLOWED_NAME = 'hooks.internal.test';
const HIDDEN_LOOPBACK = 'partner.example.test';
const MIXED = 'mixed.example.test';
const RESOLVED: Record<string, Array<{ address: string; family: number }>> = {
  [ALLOWED_NAME]: [{ address: '127.0.0.1', family: 4 }],
  [HIDDEN_LOOPBACK]: [{ address: '127.0.0.1', family: 4 }],
  [MIXED]: [{ address: '93.184.216.34', family: 4 }, { address: '::1', family: 6 }],
};

interface Hit { path: string; headers: IncomingHttpHeaders; body: string }

/** A receiver on loopback whose answer per path is scripted; it counts what it was sent. */
async function startReceiver(answer: (path: string, res: ServerResponse) => void) {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(req.url ?? '', res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port, hits,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('webhook targets stay outside the network', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      // Not 127.0.0.1: here loopback is reached only through the one allowed name (and 10.0.0.7 is allowed literally).
      webhookAllowedHosts: [ALLOWED_NAME, '10.0.0.7'],
      webhookResolver: async (hostname) => RESOLVED[hostname] ?? lookup(hostname, { all: true }),
    });
  });
  afterAll(async () => { await h?.stop(); });

  const notifyJourney = (url: string, extra: Record<string, unknown> = {}) =>
    ({ steps: [{ id: 'tell', type: 'notify', url, body: { hello: '{{ contact.email }}' }, next: 'done', ...extra }, { id: 'done', type: 'update_contact', addTags: ['told'] }] });

  const enrol = async (key: string) => {
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('hook') } });
    expect(e.status).toBe(201);
    return e.body as { id: string; workflowId: string };
  };

  it.each([
    'http://169.254.169.254/latest/meta-data', 'http://127.0.0.1:9464/metrics', 'http://[::1]:5432/', 'http://10.0.0.1/',
    'http://localhost:8233/', 'http://0x7f000001/', 'http://[::ffff:127.0.0.1]/', 'http://100.64.0.1/', 'http://[fd00:ec2::254]/',
    'http://metadata.google.internal/computeMetadata/v1/', 'http://0.0.0.0:3000/', 'http://2130706433/', 'http://[fe80::1]/',
  ])('refuses to publish a notify step to %s', async (url) => {
    const key = uniqueKey('ssrf');
    const definition = { steps: [{ id: 'ok', type: 'wait', duration: '1m', next: 'tell' }, ...notifyJourney(url).steps] };
    expect((await h.api('POST', '/v1/journeys', { key, name: key, definition })).status).toBe(201);
    const published = await h.api('POST', `/v1/journeys/${key}/publish`);
    expect(published.status).toBe(422);
    expect(published.body.error.code).toBe('invalid_definition');
    expect(published.body.error.details.problems).toEqual([
      expect.objectContaining({ path: 'definition.steps[1].url', stepId: 'tell', message: expect.stringMatching(/internal addresses/) }),
    ]);
    expect((await h.api('GET', `/v1/journeys/${key}`)).body.draftProblems).toEqual(published.body.error.details.problems);
  });

  it('publishes a literal internal address the operator allowed, and caps the timeout at 30s', async () => {
    expect(await h.publish(notifyJourney('http://10.0.0.7:8080/hook'))).toBeTruthy();
    const key = uniqueKey('slow');
    await h.api('POST', '/v1/journeys', { key, name: key, definition: notifyJourney('https://hooks.example.com/', { timeout: '45s' }) });
    const published = await h.api('POST', `/v1/journeys/${key}/publish`);
    expect(published.status).toBe(422);
    expect(published.body.error.details.problems).toEqual([expect.objectContaining({ path: 'definition.steps[0].timeout' })]);
  });

  it('refuses at connect time a name that resolves inside the network: the step fails, nothing is sent', async () => {
    const receiver = await startReceiver((_, res) => res.writeHead(200).end());
    try {
      for (const host of [HIDDEN_LOOPBACK, MIXED]) {
        const key = await h.publish(notifyJourney(`http://${host}:${receiver.port}/hook`));
        const { id, workflowId } = await enrol(key);
        const result = await h.result(workflowId);
        expect(result).toMatchObject({ status: 'failed' });
        expect(result.reason).toMatch(new RegExp(`^step "tell" failed: ${host} \\((127\\.0\\.0\\.1|::1)\\) is a loopback address`));
        const audit = await h.api('GET', `/v1/audit?enrolmentId=${id}`);
        expect(audit.body.records.map((r: { action: string }) => r.action)).toEqual(['enrolment.started', 'step.failed', 'enrolment.failed']);
        expect(audit.body.records[1]).toMatchObject({ stepId: 'tell', outcome: 'failed', details: { code: 'webhook_target_refused' } });
      }
      expect(receiver.hits).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it('delivers to an allowed internal name, signed the Standard Webhooks way as well', async () => {
    const receiver = await startReceiver((_, res) => res.writeHead(204).end());
    try {
      const key = await h.publish(notifyJourney(`http://${ALLOWED_NAME}:${receiver.port}/hook`));
      const { workflowId } = await enrol(key);
      const result = await h.result(workflowId);
      expect(result.path.map((p: { stepId: string; outcome: string }) => `${p.stepId}:${p.outcome}`)).toEqual(['tell:delivered', 'done:updated']);
      expect(receiver.hits).toHaveLength(1);
      const [hit] = receiver.hits;
      expect(hit!.headers.host).toBe(`${ALLOWED_NAME}:${receiver.port}`);
      expect(hit!.headers['webhook-id']).toBe(`${workflowId}:tell:1`);
      expect(hit!.headers['idempotency-key']).toBe(hit!.headers['webhook-id']);
      // Verified by the Standard Webhooks library, with the secret configured as the README says:
      // whsec_ + base64 of WEBHOOK_SIGNING_SECRET.
      const receiverSide = new Webhook(`whsec_${Buffer.from(TEST_SECRETS.webhook).toString('base64')}`);
      const headers = hit!.headers as Record<string, string>;
      expect(receiverSide.verify(hit!.body, headers)).toEqual(JSON.parse(hit!.body));
      expect(() => receiverSide.verify(hit!.body.replace('hook', 'hoop'), headers)).toThrow(/No matching signature/);
      expect(() => new Webhook(`whsec_${Buffer.from('another-secret-0123456789').toString('base64')}`).verify(hit!.body, headers)).toThrow();
      expect(hit!.headers['x-nurture-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    } finally {
      await receiver.close();
    }
  });

  it('does not follow a redirect: it is recorded as a rejection', async () => {
    const receiver = await startReceiver((path, res) => {
      if (path === '/hook') res.writeHead(307, { location: '/elsewhere' }).end();
      else res.writeHead(200).end();
    });
    try {
      const key = await h.publish(notifyJourney(`http://${ALLOWED_NAME}:${receiver.port}/hook`));
      const { id, workflowId } = await enrol(key);
      const result = await h.result(workflowId);
      expect(result.path[0]).toMatchObject({ stepId: 'tell', outcome: 'rejected' });
      expect(receiver.hits.map((hit) => hit.path)).toEqual(['/hook']);
      const audit = await h.api('GET', `/v1/audit?enrolmentId=${id}`);
      expect(audit.body.records.find((r: { stepId: string }) => r.stepId === 'tell'))
        .toMatchObject({ action: 'webhook.rejected', details: expect.objectContaining({ responseStatus: 307 }) });
      const [ledger] = await h.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.idempotencyKey, `${workflowId}:tell:1`));
      expect(ledger).toMatchObject({ status: 'rejected', responseStatus: 307, attempts: 1 });
    } finally {
      await receiver.close();
    }
  });

  it('reads at most 64 KiB of an endless answer and moves on', async () => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const receiver = await startReceiver((_, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const pump = () => {
        while (!res.destroyed && written < 1024 ** 3) {
          written += chunk.length;
          if (!res.write(chunk)) return; // on again at 'drain'
        }
      };
      res.on('drain', pump);
      res.on('error', () => undefined);
      pump();
    });
    try {
      const key = await h.publish(notifyJourney(`http://${ALLOWED_NAME}:${receiver.port}/hook`, { timeout: '30s' }));
      const started = Date.now();
      const { workflowId } = await enrol(key);
      const result = await h.result(workflowId);
      expect(result.path.map((p: { stepId: string; outcome: string }) => `${p.stepId}:${p.outcome}`)).toEqual(['tell:delivered', 'done:updated']);
      expect(Date.now() - started).toBeLessThan(15_000); // not the 30s timeout, not a retry
      expect(receiver.hits).toHaveLength(1);
      expect(written).toBeGreaterThan(64 * 1024); // the receiver did send more than is read
      expect(written).toBeLessThan(64 * 1024 * 1024); // the connection was closed long before 1 GiB
    } finally {
      await receiver.close();
    }
  });
});
