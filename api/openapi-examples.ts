/**
 * Request examples for the OpenAPI document (shown on /docs). Every operation also gets a curl
 * example in its description, built from its method, path and this body.
 */
export const REQUEST_EXAMPLES: Record<string, unknown> = {
  'POST /v1/contacts': { email: 'ada@example.com', firstName: 'Ada', company: 'Analytical Engines', tags: ['trial'], attributes: { plan: 'pro' }, consents: [{ channel: 'email', topic: 'marketing', status: 'granted', source: 'signup form', evidence: { formId: 'signup-2026' } }] },
  'PATCH /v1/contacts/{id}': { lifecycleStage: 'customer', addTags: ['paid'], scoreDelta: 10, attributes: { plan: null } },
  'POST /v1/journeys': { key: 'welcome', name: 'Welcome series', definition: { steps: [{ id: 'hello', type: 'send_email', subject: 'Welcome, {{ contact.firstName }}', text: 'Hi!', next: 'pause' }, { id: 'pause', type: 'wait', duration: '2d', next: 'tag' }, { id: 'tag', type: 'update_contact', addTags: ['welcomed'] }] } },
  'PUT /v1/journeys/{key}/draft': { definition: { goal: { event: 'demo_booked' }, steps: [{ id: 'hello', type: 'send_email', template: 'welcome' }] } },
  'POST /v1/journeys/{key}/enrolments': { contact: { email: 'ada@example.com', firstName: 'Ada' }, idempotencyKey: 'signup-42' },
  'POST /v1/journeys/{key}/enrolments/bulk': { items: [{ contact: { email: 'ada@example.com' }, idempotencyKey: 'import-7:1' }, { contactId: '3f4c2c1e-8d2a-4a8e-9a53-2f1f0b7c9d10' }] },
  'POST /v1/journeys/{key}/test-runs': { contacts: [{ ref: 'alice', firstName: 'Alice', tags: ['vip'] }], events: [{ ref: 'alice', name: 'demo_booked', after: '36h' }], timeScale: 86400 },
  'POST /v1/enrolments/{id}/cancel': { reason: 'customer asked' },
  'POST /v1/events': { id: 'order-1001', contact: { email: 'ada@example.com' }, name: 'order_placed', properties: { amount: 120, currency: 'EUR' }, occurredAt: '2026-11-25T10:00:00Z' },
  'POST /v1/templates': { key: 'welcome', subject: 'Welcome, {{ contact.firstName | default: "friend" }}', text: 'Hi {{ contact.firstName }}!\n\nUnsubscribe: {{ unsubscribe_url }}', html: '<p>Hi {{ contact.firstName }}!</p>' },
  'POST /v1/email/feedback': { type: 'bounce', email: 'gone@example.com', bounceType: 'hard', source: 'provider webhook' },
  'POST /v1/users': { email: 'manager@example.com', name: 'Morgan Manager', roles: ['sales-manager'] },
  'POST /v1/api-keys': { name: 'CRM sync', scopes: ['service'] },
  'POST /v1/tasks/{id}/complete': { decision: 'approve', values: { discount: 15, tier: 'gold' }, comment: 'Strategic account' },
  'POST /v1/processes': { key: 'campaign-launch', name: 'Campaign launch', definition: { inputs: [{ name: 'campaign', label: 'Campaign', type: 'text', required: true }], sections: [{ title: 'Brief', tasks: [{ id: 'brief', kind: 'form', title: 'Write the brief', assignee: { role: 'marketing' }, fields: [{ name: 'claims', label: 'Makes claims?', type: 'checkbox' }] }, { id: 'legal', kind: 'approval', title: 'Legal review', approvers: [{ role: 'legal' }], when: { field: 'task.brief.values.claims', op: 'eq', value: true } }, { id: 'launch', kind: 'checklist', title: 'Launch', stop: true, due: { after: '2d' } }] }] } },
  'POST /v1/processes/{key}/runs': { inputs: { campaign: 'Spring sale' } },
  'POST /v1/processes/{key}/runs/{runId}/tasks/{taskId}/complete': { action: 'approve', values: {}, comment: 'Claims checked' },
};

const SAMPLE_PARAMS: Record<string, string> = {
  id: '3f4c2c1e-8d2a-4a8e-9a53-2f1f0b7c9d10', key: 'welcome', version: '1', token: '<token from the email>',
  idempotencyKey: 'journey:welcome:3f4c2c1e-8d2a-4a8e-9a53-2f1f0b7c9d10:hello:1',
  runId: '7d0c3b52-1e8f-4c1a-9b2e-5a6f3d2c1b0a', taskId: 'legal',
};

interface Operation { description?: string; requestBody?: { content?: Record<string, { schema?: unknown; example?: unknown }> } }

/** Adds a request example and a curl line to every operation of a generated OpenAPI document. */
export function withExamples(doc: { paths?: Record<string, Record<string, Operation>> }, baseUrl = 'http://localhost:3000'): typeof doc {
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(operations)) {
      const name = `${method.toUpperCase()} ${path}`;
      const body = REQUEST_EXAMPLES[name];
      const url = baseUrl + path.replace(/\{(\w+)\}/g, (_m, p: string) => SAMPLE_PARAMS[p] ?? p);
      const auth = path.startsWith('/v1/') ? ' -H "authorization: Bearer $NURTURE_API_KEY"' : '';
      const data = body === undefined ? '' : ` -H 'content-type: application/json' -d '${JSON.stringify(body)}'`;
      const curl = `curl -s -X ${method.toUpperCase()} '${url}'${auth}${data}`;
      op.description = `${op.description ? `${op.description}\n\n` : ''}**Example**\n\n\`\`\`sh\n${curl}\n\`\`\``;
      const json = op.requestBody?.content?.['application/json'];
      if (json && body !== undefined) json.example = body;
    }
  }
  return doc;
}
