import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

/** The document as tools read it: it validates, and a typed client generated from it compiles. */
describe('OpenAPI document for tools', () => {
  let h: Harness;
  let doc: any;
  beforeAll(async () => {
    h = await startHarness();
    doc = (await h.api('GET', '/openapi.json', undefined, { authorization: '' })).body;
  });
  afterAll(async () => { await h?.stop(); });

  const operations = () => Object.entries(doc.paths as Record<string, Record<string, any>>)
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

  it('validates as OpenAPI, with every $ref resolving to a populated component', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nurture-openapi-'));
    try {
      writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(doc));
      const validate = spawnSync(process.execPath, [path.join(__dirname, '..', 'support', 'validate-openapi.mjs'), path.join(dir, 'openapi.json')], { encoding: 'utf8' });
      expect({ status: validate.status, stderr: validate.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(0);
    for (const name of new Set(refs)) expect(Object.keys(doc.components.schemas)).toContain(name);
  });

  it('states who may call each operation, its id, and the errors every route can give', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations()) {
      const name = `${method.toUpperCase()} ${path}`;
      expect({ name, id: typeof op.operationId }).toEqual({ name, id: 'string' });
      expect({ name, has429: '429' in op.responses }).toEqual({ name, has429: true });
      if (op.requestBody) expect({ name, has413: '413' in op.responses }).toEqual({ name, has413: true });
      if (path.startsWith('/v1/')) {
        expect({ name, security: op.security }).toEqual({ name, security: [{ apiKey: [] }] });
        expect({ name, scopes: Array.isArray(op['x-required-scopes']) }).toEqual({ name, scopes: true });
        expect({ name, has503: '503' in op.responses }).toEqual({ name, has503: true });
      }
    }
    const op = (method: string, path: string) => doc.paths[path][method];
    for (const [method, path] of [['get', '/unsubscribe/{token}'], ['post', '/unsubscribe/{token}'], ['get', '/t/o/{token}'], ['get', '/healthz'], ['get', '/tasks/{id}']] as const) {
      expect({ path, security: op(method, path).security }).toEqual({ path, security: [] });
    }
    expect(op('get', '/journeys/{key}').security).toEqual([{ apiKey: [] }, { pageBasic: [] }]);
    expect(op('post', '/v1/journeys/{key}/enrolments').operationId).toBe('postJourneysByKeyEnrolments');
    expect(op('post', '/v1/api-keys')['x-required-scopes']).toEqual(['admin']);
  });

  it('generates a typed client that compiles against a usage sample (openapi-typescript + openapi-fetch)', () => {
    const root = path.resolve(__dirname, '..', '..');
    const dir = path.join(root, '.scratch', `openapi-client-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(doc));
      execFileSync(path.join(root, 'node_modules', '.bin', 'openapi-typescript'), [path.join(dir, 'openapi.json'), '-o', path.join(dir, 'nurture-api.d.ts')], { stdio: 'pipe' });
      writeFileSync(path.join(dir, 'sample.ts'), CLIENT_SAMPLE);
      const tsc = () => execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), [
        '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', path.join(dir, 'sample.ts'),
      ], { stdio: 'pipe', encoding: 'utf8' });
      expect(() => tsc()).not.toThrow();
      // The sample's types are real: a wrong body does not compile.
      writeFileSync(path.join(dir, 'sample.ts'), CLIENT_SAMPLE.replace("contact: { email: 'ada@example.com' }", 'contact: { email: 42 }'));
      expect(() => tsc()).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

const CLIENT_SAMPLE = `
import createClient from 'openapi-fetch';
import type { paths } from './nurture-api.js';

const api = createClient<paths>({ baseUrl: 'http://localhost:3000', headers: { authorization: 'Bearer nrt_example' } });

export async function enrolAda(): Promise<string | undefined> {
  const { data, error } = await api.POST('/v1/journeys/{key}/enrolments', {
    params: { path: { key: 'welcome' } },
    body: { contact: { email: 'ada@example.com' } },
  });
  if (error) return error.error.code;
  const workflowId: string = data.workflowId;
  const status: string = (await api.GET('/v1/enrolments/{id}', { params: { path: { id: data.id } } })).data?.status ?? 'unknown';
  // @ts-expect-error a route the API does not have
  await api.GET('/v1/no-such-route');
  return workflowId + status;
}
`;
