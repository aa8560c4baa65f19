import { eventually, startHarness, TEST_SECRETS, uniqueEmail, type Harness } from '../support/harness';
import { startWebhookReceiver } from '../support/webhook-receiver';

/** Contact data is data: never template source, escaped in HTML, never a tracked redirect. */
describe('templates and untrusted data', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function run(steps: unknown[], contact: Record<string, unknown>) {
    const key = await h.publish({ steps });
    const email = uniqueEmail('tpl');
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email, ...contact } });
    expect(enrolled.status).toBe(201);
    const result = await h.result(enrolled.body.workflowId);
    return { result, email, messages: h.smtp.to(email), enrolment: enrolled.body };
  }

  it('Liquid in a contact\'s fields is shown as written, and markup in them is escaped in HTML', async () => {
    const { messages } = await run([
      { id: 'hello', type: 'send_email', subject: 'Hi {{ contact.firstName }}', text: 'Hi {{ contact.firstName }}', html: '<p>Hi {{ contact.firstName }}, {{ contact.lastName }}</p>' },
    ], { firstName: 'M{{ 6 | times: 7 }}', lastName: '<b onclick="x()">Bold</b>' });
    const [message] = messages;
    expect(message!.parsed.subject).toBe('Hi M{{ 6 | times: 7 }}');
    expect(message!.parsed.text).toContain('Hi M{{ 6 | times: 7 }}');
    expect(message!.parsed.html).toContain('&lt;b onclick=&#34;x()&#34;&gt;Bold&lt;/b&gt;');
    expect(message!.parsed.html).not.toContain('<b onclick');
  });

  it('a notify step without a body sends the contact as data, never rendered', async () => {
    const receiver = await startWebhookReceiver(TEST_SECRETS.webhook);
    try {
      const { result } = await run([
        { id: 'tell', type: 'notify', url: `${receiver.url}/hook`, next: 'tell2' },
        { id: 'tell2', type: 'notify', url: `${receiver.url}/hook`, body: { who: 'Lead {{ contact.firstName }}' } },
      ], { firstName: 'M{{ 6 | times: 7 }}{% for a in (1..9) %}x{% endfor %}' });
      expect(result).toMatchObject({ status: 'completed' });
      const [plain, templated] = receiver.delivered();
      expect(plain!.json.contact.firstName).toBe('M{{ 6 | times: 7 }}{% for a in (1..9) %}x{% endfor %}');
      expect(templated!.json.who).toBe('Lead M{{ 6 | times: 7 }}{% for a in (1..9) %}x{% endfor %}');
    } finally {
      await receiver.close();
    }
  });

  it('an approval task\'s title shows the contact\'s data as written, in the task and in the approver\'s email', async () => {
    const approver = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles: [] });
    const key = await h.publish({ steps: [
      { id: 'approve', type: 'approval', title: 'Approve {{ contact.firstName }}', description: 'From {{ contact.company }}', assignee: { user: approver.body.email }, expireAfter: '1h' },
    ] });
    const name = 'M{{ 6 | times: 7 }}';
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('tpl'), firstName: name, company: '{% for a in (1..9) %}x{% endfor %}' } });
    const [message] = await eventually(async () => (h.smtp.to(approver.body.email).length ? h.smtp.to(approver.body.email) : undefined));
    expect(message!.parsed.subject).toBe(`You have a task to decide: Approve ${name}`);
    expect(message!.parsed.text).toContain(`Approve ${name}\nFrom {% for a in (1..9) %}x{% endfor %}`);
    await h.api('POST', `/v1/enrolments/${enrolled.body.id}/cancel`, { reason: 'test over' });
  });

  it('click tracking rewrites the template\'s own links only, never one that came with the data', async () => {
    const { messages } = await run([
      { id: 'hello', type: 'send_email', subject: 'Links', text: 'x',
        html: '<a href="https://shop.example.test/offer">Offer</a> <a href="https://shop.example.test/u/{{ contact.attributes.ref }}">Yours</a> <a href="{{ contact.attributes.site }}">Site</a> {{ contact.attributes.note | raw }}' },
    ], { attributes: { ref: 'r1', site: 'https://evil.example.test/', note: '<a href="https://phish.example.test/">Login</a>' } });
    const html = String(messages[0]!.parsed.html);
    const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    const tracked = hrefs.filter((u) => u.includes('/t/c/'));
    expect(tracked).toHaveLength(2);
    const targets = await Promise.all(tracked.map(async (u) => (await fetch(u, { redirect: 'manual' })).headers.get('location')));
    expect(targets.sort()).toEqual(['https://shop.example.test/offer', 'https://shop.example.test/u/r1']);
    expect(hrefs).toContain('https://evil.example.test/');
    expect(hrefs).toContain('https://phish.example.test/');
  });

  it('a template that would loop past its limits fails its step only; the worker and other enrolments go on', async () => {
    const loop = '{% for a in (1..100000) %}{% for b in (1..100000) %}{{ contact.firstName }}{% endfor %}{% endfor %}';
    const heavy = await h.publish({ steps: [{ id: 'boom', type: 'send_email', subject: 'x', text: loop }] });
    const light = await h.publish({ steps: [{ id: 'fine', type: 'send_email', subject: 'Fine', text: 'fine' }] });
    const started = Date.now();
    const bad = await h.api('POST', `/v1/journeys/${heavy}/enrolments`, { contact: { email: uniqueEmail('heavy'), firstName: 'Ada' } });
    const good = await h.api('POST', `/v1/journeys/${light}/enrolments`, { contact: { email: uniqueEmail('light') } });
    expect(await h.result(good.body.workflowId)).toMatchObject({ status: 'completed' });
    const result = await h.result(bad.body.workflowId);
    expect(result).toMatchObject({ status: 'failed' });
    expect(result.reason).toMatch(/template cannot render/);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(process.memoryUsage().rss).toBeLessThan(2 * 1024 ** 3);
  });

  it.each([
    ['include', "{% include 'secrets.json' %}"],
    ['render', "{% render '../.data/secrets' %}"],
    ['layout', "{% layout 'x' %}hi"],
  ])('{%% %s %%} is refused at publish: templates read no files', async (_, source) => {
    const created = await h.api('POST', '/v1/journeys', { key: `inc-${Math.random().toString(36).slice(2, 8)}`, name: 'x',
      definition: { steps: [{ id: 'hello', type: 'send_email', subject: 'x', text: source }] } });
    const published = await h.api('POST', `/v1/journeys/${created.body.key}/publish`);
    expect(published.status).toBe(422);
    expect(JSON.stringify(published.body.error.details)).toContain('definition.steps[0].text');
    const template = await h.api('POST', '/v1/templates', { key: `inc-${Math.random().toString(36).slice(2, 8)}`, subject: 'x', text: source });
    expect(template.status).toBe(422);
  });
});
