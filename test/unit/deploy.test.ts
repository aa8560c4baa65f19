import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DCLinter as Linter } from 'dclint' with { 'resolution-mode': 'import' };
import { parse } from 'yaml';
import { JOURNEY_SEARCH_ATTRIBUTES } from '../../workflows/contract';

/**
 * docker-compose.yml cannot be started here (no Docker engine), so it is checked two ways: against
 * the Compose specification's JSON schema and dclint's rules (the dclint package, offline), and
 * for the rules of Nurture's topology below.
 */
// dclint is an ES module with a CommonJS build, which Jest (CommonJS) loads.
const { DCLinter } = require('dclint') as { DCLinter: typeof Linter };
const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  env_file?: string | string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

describe('docker-compose.yml', () => {
  it('validates against the Compose specification and passes dclint', () => {
    const linter = new DCLinter({
      // Ordering and quoting are style: off. Schema, unbound ports, untagged images, duplicate
      // ports and the like stay errors.
      rules: {
        'service-keys-order': 0, 'services-alphabetical-order': 0, 'top-level-properties-order': 0,
        'service-dependencies-alphabetical-order': 0, 'require-quotes-in-ports': [2, { quoteType: 'double' }],
      },
      quiet: true, debug: false, exclude: [],
    });
    const [result] = linter.lintFiles([path.join(ROOT, 'docker-compose.yml')], false);
    expect(result!.messages.map((m: { rule: string; message: string }) => `${m.rule}: ${m.message}`)).toEqual([]);
  });

  it('pins one Temporal line: server, admin-tools and UI tags that exist, the server CI builds', () => {
    const images = Object.values(services).map((s) => s.image).filter((i): i is string => !!i);
    const server = images.find((i) => i.startsWith('temporalio/server:'))!.split(':')[1]!;
    expect(server).toMatch(/^\d+\.\d+\.\d+$/);
    expect(images.filter((i) => i.startsWith('temporalio/server:'))).toEqual(Array(4).fill(`temporalio/server:${server}`));
    // admin-tools has no plain patch tag on this line: the build of the same server version.
    for (const image of images.filter((i) => i.startsWith('temporalio/admin-tools:'))) {
      expect(image).toBe(`temporalio/admin-tools:${server}-tctl-1.18.4-cli-1.5.0`);
    }
    expect(images).toContain('temporalio/ui:2.34.0');
    expect(read('scripts/provision-temporal-server.sh')).toContain(`VERSION="v${server}"`);
  });

  it('runs Temporal one service per container through deploy/temporal/cluster.sh, without dev-only settings', () => {
    for (const name of ['temporal-frontend', 'temporal-history', 'temporal-matching', 'temporal-worker']) {
      expect(service(name).entrypoint).toEqual(['/bin/sh', '/nurture/cluster.sh', 'start']);
      expect(service(name).command).toEqual([name.replace('temporal-', '')]);
      expect(service(name).volumes).toEqual(['./deploy/temporal:/nurture:ro']);
    }
    expect(service('temporal-schema').command).toEqual(['schema']);
    expect(service('temporal-namespace').command).toEqual(['namespace']);
    const text = read('docker-compose.yml');
    expect(text).not.toMatch(/dynamicconfig|DYNAMIC_CONFIG|CORS/i);
  });

  it('publishes Temporal and the UI on 127.0.0.1 only, and no fixed host port for the API', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const port of s.ports ?? []) expect(`${name} ${port}`).toMatch(/^\S+ 127\.0\.0\.1:/);
    }
    expect(service('temporal-frontend').ports).toEqual(['127.0.0.1:7233:7233']);
    expect(service('temporal-ui').ports).toEqual(['127.0.0.1:8080:8080']);
    expect(service('api').ports).toEqual(['127.0.0.1::3000']);
  });

  it('migrates once, as the owner, before api and worker start as the runtime role', () => {
    const completed = { condition: 'service_completed_successfully' };
    expect(service('migrate').command).toEqual(['node', 'dist/bin/migrate.js']);
    expect(service('migrate').depends_on).toEqual({ 'db-roles': completed });
    expect(service('db-grants').depends_on).toEqual({ migrate: completed });
    for (const name of ['api', 'worker']) {
      expect(service(name).depends_on).toMatchObject({ 'db-grants': completed, 'temporal-namespace': completed });
      expect(service(name).environment!.DATABASE_URL).toMatch(/^postgres:\/\/nurture_app:/);
      expect(service(name).environment!.DATABASE_OWNER_URL).toBeUndefined();
    }
    // The migrate job migrates as the owner (DATABASE_OWNER_URL); its DATABASE_URL stays the runtime role's.
    expect(service('migrate').environment!.DATABASE_OWNER_URL).toMatch(/^postgres:\/\/nurture_owner:/);
    expect(service('migrate').environment!.DATABASE_URL).toMatch(/^postgres:\/\/nurture_app:/);
    // The names are roles.sql's defaults; one-shot jobs are never restarted once done.
    const roles = read('deploy/postgres/roles.sql');
    expect(roles).toMatch(/\\set owner nurture_owner/);
    expect(roles).toMatch(/\\set app nurture_app/);
    expect(roles).toMatch(/\\set db nurture\n/);
    for (const name of ['temporal-schema', 'temporal-namespace', 'db-roles', 'migrate', 'db-grants']) {
      expect(service(name).restart).toMatch(/^on-failure/);
    }
  });

  it('hands every documented setting to api, worker and migrate through env_file', () => {
    const documented = [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect(documented).toContain('CONSENT_MODE');
    // What a container must set differently from a local .env; everything else comes from it.
    const containerOnly = ['NODE_ENV', 'HOST', 'PORT', 'DATABASE_URL', 'DATABASE_OWNER_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL', 'WORKFLOW_BUNDLE_PATH', 'NODE_OPTIONS', 'MALLOC_ARENA_MAX'];
    for (const name of ['api', 'worker', 'migrate']) {
      expect(service(name).env_file).toBe('.env');
      const overridden = Object.keys(service(name).environment ?? {});
      expect(overridden.filter((k) => !containerOnly.includes(k))).toEqual([]);
    }
  });

  it('checks the health of the API and of the worker with the compiled bin/healthcheck.ts', () => {
    expect(service('api').healthcheck!.test).toEqual(['CMD', 'node', 'dist/bin/healthcheck.js', 'api']);
    expect(service('worker').healthcheck!.test).toEqual(['CMD', 'node', 'dist/bin/healthcheck.js', 'worker']);
  });
});

describe('deploy scripts and image', () => {
  it('creates the search attributes the workflows use', () => {
    const line = /^SEARCH_ATTRIBUTES="([^"]+)"/m.exec(read('deploy/temporal/cluster.sh'))![1]!;
    const typeName = { KEYWORD: 'Keyword', INT: 'Int' } as Record<string, string>;
    expect(line.split(' ')).toEqual(JOURNEY_SEARCH_ATTRIBUTES.map((k) => `${k.name}=${typeName[k.type]}`));
  });

  it('builds the runtime image on a current Node LTS, copying every folder the build compiles', () => {
    const dockerfile = read('Dockerfile');
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(bases).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
    const compiled = execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--listFilesOnly'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n').map((f) => path.relative(ROOT, f.trim())).filter((f) => f && !f.startsWith('node_modules') && !f.startsWith('..'));
    const folders = [...new Set(compiled.map((f) => f.split(path.sep)[0]!))].sort();
    expect(folders).toEqual(expect.arrayContaining(['bin', 'journey-language', 'workflows']));
    for (const folder of folders) expect(dockerfile).toContain(`COPY ${folder} ./${folder}`);
  }, 60_000);
});
