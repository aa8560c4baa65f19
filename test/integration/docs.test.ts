import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startHarness, type Harness } from '../support/harness';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = ['README.md', 'CONTRIBUTING.md', 'bench/README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);

/** The documentation says only what is true of this tree: its links, paths and commands exist. */
describe('documentation', () => {
  it.each(DOCS)('%s links only to files that exist', (file) => {
    const links = [...read(file).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^(https?:|mailto:|#)/.test(l));
    const missing = links.map((l) => l.split('#')[0]!).filter((l) => !existsSync(path.resolve(ROOT, path.dirname(file), l)));
    expect(missing).toEqual([]);
  });

  it.each(DOCS)('%s names only paths and npm scripts that exist', (file) => {
    const text = read(file);
    const spans = [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
    const blocks = [...text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const npmRuns = [...[...spans, ...blocks].join('\n').matchAll(/\bnpm run ([\w:.-]+)/g)].map((m) => m[1]!);
    expect(npmRuns.filter((s) => !scripts.includes(s))).toEqual([]);
    const paths = spans.flatMap((s) => s.split(/[\s,]+/))
      .filter((t) => /^(bin|api|services|activities|workflows|db|runtime|test|deploy|scripts|docs|bench|journey-language)\/[\w./-]*$/.test(t) && !t.includes('<'))
      .map((t) => t.replace(/[.,;:]$/, ''));
    // A module may be named without its extension (`workflows/contract`).
    expect(paths.filter((p) => !existsSync(path.join(ROOT, p)) && !existsSync(path.join(ROOT, `${p}.ts`)))).toEqual([]);
  });

  describe("the README's five-minute tour", () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(); });
    afterAll(async () => { await h?.stop(); });

    it('runs as written against a real Nurture', async () => {
      const readme = read('README.md');
      const tour = readme.slice(readme.indexOf('## A five-minute tour'), readme.indexOf('## Architecture'));
      const blocks = [...tour.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
      expect(blocks.length).toBeGreaterThanOrEqual(2);
      const port = new URL(h.baseUrl).port;
      const script = ['set -euo pipefail', ...blocks].join('\n')
        .replace('$(cat .data/admin-api-key)', h.keys.admin)
        .replaceAll('localhost:3000', `127.0.0.1:${port}`);
      // Asynchronously: the API answering curl runs in this process.
      const { stdout: output } = await promisify(execFile)('bash', ['-c', script], { encoding: 'utf8' });
      const answers = output.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(answers.map((a) => Object.keys(a).includes('error'))).not.toContain(true);
      const enrolment = answers.at(-1) as { workflowId: string; temporalUiUrl: string };
      expect(enrolment.workflowId).toMatch(/^journey:welcome:/);
    });
  });
});
