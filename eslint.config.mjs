// ESLint flat config: typescript-eslint with type information, Prettier owns formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// Workflow code runs in Temporal's deterministic sandbox: no I/O and no Node APIs.
const nodeBuiltins = [
  'fs',
  'fs/promises',
  'path',
  'os',
  'child_process',
  'http',
  'https',
  'net',
  'dns',
  'crypto',
  'stream',
  'events',
  'worker_threads',
  'cluster',
  'process',
  'timers',
  'zlib',
  'tls',
  'dgram',
  'readline',
  'perf_hooks',
  'async_hooks',
  'v8',
  'vm',
  'buffer',
  'string_decoder',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'bin/**',
      '*.config.js',
      '*.config.mjs',
      '.dependency-cruiser.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Issue 15: a bare heartbeat would erase the details a retried attempt resumes from.
    ignores: ['activities/progress.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@temporalio/activity',
              importNames: ['heartbeat'],
              message: 'Heartbeat through activities/progress.ts (reportProgress, keepAlive).',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='heartbeat']",
          message: 'Heartbeat through activities/progress.ts (reportProgress, keepAlive).',
        },
      ],
    },
  },
  {
    // Issue 16: what a command prints is escaped (client/output.ts); nothing writes around it.
    files: ['client/**/*.ts'],
    ignores: ['client/output.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "MemberExpression[object.object.name='process'][object.property.name=/^std(out|err)$/][property.name='write']",
          message:
            'Print through client/output.ts (printLines, printJson, printError): it escapes control and bidi characters.',
        },
        {
          selector: "MemberExpression[object.name='console']",
          message:
            'Print through client/output.ts (printLines, printJson, printError): it escapes control and bidi characters.',
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.flatMap((name) => [
              { name, message: 'Workflow code is deterministic: do I/O in activities.' },
              { name: `node:${name}`, message: 'Workflow code is deterministic: do I/O in activities.' },
            ]),
            { name: '@temporalio/activity', message: 'Not allowed in workflow code.' },
            { name: '@temporalio/client', message: 'Not allowed in workflow code.' },
            { name: '@temporalio/worker', message: 'Not allowed in workflow code.' },
            { name: 'undici', message: 'Workflow code does no I/O: call an activity.' },
          ],
          patterns: [
            {
              group: ['../activities', '../activities/*', '../api/*', '../config/*', '../harness/*'],
              allowTypeImports: true,
              message: 'Import activities and side-effecting modules as types only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // jest's asymmetric matchers (expect.any, objectContaining) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  prettier,
);
