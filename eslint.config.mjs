// Guardrails run by `npm test` (not a style guide). Everywhere: no floating promises, no deep imports
// of Temporal SDK internals. workflows/: deterministic sandbox code (no Node built-ins, no unsafe clock,
// no timers, imports only @temporalio/workflow, own files and the pure interpreter). journey-language/:
// pure, imports no layer. Layers import downward only: api/ → services/ → db/, activities/ → services/;
// api/ and activities/ touch the database only through services/ (types aside) and take only the typed
// contract from workflows/; services/lib/ is shared by every domain folder and imports none of them.
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Node built-ins, bare (`fs`, `fs/promises`) or with the `node:` scheme. */
const NODE_BUILTINS = `^(node:|(${builtinModules.filter((m) => !m.startsWith('_')).map(escape).join('|')})(/|$))`;

/** A relative import that reaches one of the named top-level folders, from any depth. */
const layer = (...folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;

/** workflows/ except workflows/contract, the one typed contract (signals, queries, inputs) callers may use. */
const WORKFLOWS_BUT_CONTRACT = '^(\\.\\./)+workflows(/(?!contract$)|$)';

/** The SDK's lib/ paths are internal and change without notice; import from the package's index. */
const SDK_INTERNALS = {
  regex: '^@temporalio/[^/]+/lib(/|$)',
  message: 'SDK internals change without notice: import from the package itself (e.g. @temporalio/common).',
};

/**
 * no-restricted-imports options for one part of the tree. Flat config replaces (does not merge) a
 * rule's options per file, so every block states its own patterns plus the SDK-internals ban.
 * A type-only import is let through when any pattern with allowTypeImports matches it.
 */
const restrictImports = (...patterns) => ['error', { patterns: [...patterns, SDK_INTERNALS] }];

/** services/ (every domain folder): below api/ and activities/, over db/, with runtime pieces passed in. */
const SERVICE_PATTERNS = [
  { regex: layer('api', 'activities'), message: 'services/ sit below api/ and activities/: they call services, not the reverse.' },
  { regex: layer('runtime'), allowTypeImports: true, message: 'services/ get runtime pieces passed in (import type is fine).' },
  { regex: WORKFLOWS_BUT_CONTRACT, message: 'services/ import only workflows/contract from workflows/ (the typed contract).' },
];

/** Workflow code runs in the deterministic sandbox and is bundled on its own. */
const WORKFLOW_CODE = ['workflows/**/*.ts', 'bench/baseline-workflows.ts'];

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.data/', '.tools/', '.scratch/', '.ci/'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-restricted-imports': restrictImports(),
      'no-debugger': 'error',
      'no-dupe-keys': 'error',
      'no-self-compare': 'error',
      'no-unreachable': 'error',
    },
  },
  {
    files: WORKFLOW_CODE,
    rules: {
      '@typescript-eslint/no-restricted-imports': restrictImports(
        {
          regex: NODE_BUILTINS,
          message: 'Workflow code runs in the deterministic sandbox: no Node built-ins.',
        },
        {
          // Everything except the sandbox SDK, workflow files and the zod/Liquid-free interpreter;
          // types may come from anywhere (they are erased). Built-ins are left to the pattern above.
          regex: `^(?!@temporalio/workflow$|\\./(?!.*\\.\\.)|\\.\\./journey-language/interpreter$|${NODE_BUILTINS.slice(1)})`,
          allowTypeImports: true,
          message: 'Workflow code imports values only from @temporalio/workflow, ./ files and ../journey-language/interpreter (import type for the rest).',
        },
      ),
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[property.name='unsafe']",
          message: 'workflowInfo().unsafe is not replay-safe: read time with Date.now() (the workflow clock).',
        },
        {
          selector: "ObjectPattern > Property[key.name='unsafe']",
          message: 'workflowInfo().unsafe is not replay-safe: read time with Date.now() (the workflow clock).',
        },
        { selector: 'ImportExpression', message: 'No dynamic import() in the workflow bundle.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow: a durable timer.' },
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow in a loop: a durable timer.' },
        { name: 'setImmediate', message: 'Not available in the workflow sandbox.' },
        { name: 'process', message: 'Not available in the workflow sandbox: pass configuration in the workflow input.' },
      ],
    },
  },
  {
    files: ['journey-language/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': restrictImports(
        { regex: NODE_BUILTINS, message: 'The journey language is pure: no Node built-ins.' },
        {
          regex: layer('services', 'db', 'api', 'activities', 'workflows', 'runtime'),
          message: 'The journey language is pure: it imports no other layer (they import it).',
        },
      ),
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': restrictImports(
        { regex: layer('db'), allowTypeImports: true, message: 'api/ reaches the database through services/ (import type is fine).' },
        { regex: layer('activities'), message: 'api/ calls services/, not the activities that workflows call.' },
        { regex: WORKFLOWS_BUT_CONTRACT, message: 'api/ imports only workflows/contract from workflows/ (the typed contract).' },
      ),
    },
  },
  {
    files: ['services/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': restrictImports(...SERVICE_PATTERNS) },
  },
  {
    files: ['services/lib/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': restrictImports(...SERVICE_PATTERNS, {
        regex: '^\\.\\./(?!\\.\\./)',
        message: 'services/lib/ is shared by every domain folder: it imports none of them (they import it).',
      }),
    },
  },
  {
    files: ['db/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': restrictImports({
        regex: layer('services', 'api', 'activities', 'workflows', 'runtime', 'bin'),
        allowTypeImports: true,
        message: 'db/ is the bottom layer: it imports no layer above it (import type is fine).',
      }),
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': restrictImports(
        { regex: layer('api'), message: 'activities/ are thin adapters over services/, not over the HTTP API.' },
        { regex: layer('db'), allowTypeImports: true, message: 'activities/ run no SQL: they reach the database through services/ (import type is fine).' },
        { regex: WORKFLOWS_BUT_CONTRACT, message: 'activities/ import only workflows/contract from workflows/ (the typed contract).' },
      ),
    },
  },
);
