import { startHarness, type Harness } from '../support/harness';
import { REQUEST_EXAMPLES } from '../../api/openapi-examples';

/** The public contract: every route is in the OpenAPI document, with an example. */
describe('OpenAPI document', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('lists every route of the public contract, each with an example', async () => {
    const doc = (await h.api('GET', '/openapi.json', undefined, { authorization: '' })).body;
    const operations = Object.entries(doc.paths as Record<string, Record<string, { description?: string; requestBody?: { content: Record<string, { example?: unknown }> } }>>)
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })));
    const names = operations.map((o) => o.name);
    for (const route of [
      'POST /v1/contacts', 'GET /v1/contacts/{id}', 'PATCH /v1/contacts/{id}', 'POST /v1/journeys', 'PUT /v1/journeys/{key}/draft',
      'POST /v1/journeys/{key}/publish', 'GET /v1/journeys', 'GET /v1/journeys/{key}', 'POST /v1/journeys/{key}/pause', 'POST /v1/journeys/{key}/resume',
      'GET /v1/journeys/{key}/stats', 'POST /v1/journeys/{key}/enrolments', 'GET /v1/enrolments/{id}', 'POST /v1/enrolments/{id}/cancel',
      'POST /v1/events', 'GET /v1/tasks', 'GET /v1/tasks/{id}', 'POST /v1/tasks/{id}/complete', 'GET /tasks/{id}', 'GET /unsubscribe/{token}',
      'POST /unsubscribe/{token}', 'GET /v1/audit', 'GET /v1/audit/verify', 'GET /healthz', 'GET /readyz', 'GET /metrics',
      'POST /v1/journeys/{key}/test-runs', 'GET /journeys/{key}',
    ]) expect(names).toContain(route);
    for (const { name, op } of operations) {
      expect(`${name}: ${op.description ?? ''}`).toContain('**Example**');
      const json = op.requestBody?.content?.['application/json'];
      if (json) expect({ name, example: json.example }).toEqual({ name, example: REQUEST_EXAMPLES[name] });
    }
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect((await fetch(`${h.baseUrl}/docs/`)).status).toBe(200);
  });
});
