/**
 * Architecture checks (`npm run lint`): no import cycle among the product's modules, type-only
 * imports included (workflows import the activity interfaces as types, the Temporal norm, so
 * activities must not import workflow implementations back: they use the contracts and start
 * workflows by type name); the product (what a worker image ships) apart from the development
 * harness (`harness/`) and its packages (ADR 0008).
 */
const PRODUCT = '^(workflows|activities|contracts|client|worker|api|config|common|temporal)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Modules import each other in a circle; move what both need into a contract or shared module.',
      // The product (what a worker image ships); the harness (emulators, local stack, bench) is not held to it.
      from: { path: PRODUCT },
      to: { circular: true },
    },
    {
      name: 'contracts-stand-alone',
      severity: 'error',
      comment:
        'contracts/ is what workflows, activities and the CLI agree on: it imports none of them, nor Node.',
      from: { path: '^contracts/' },
      to: {
        path: '^(activities|client|worker|api|harness)/|^node:|^(fs|path|os|child_process)$',
      },
    },
    {
      name: 'product-without-harness',
      severity: 'error',
      comment:
        'The worker image holds no harness/: product code reaches it only through client/harness.ts, which loads a harness module by path at run time.',
      from: { path: PRODUCT },
      to: { path: '^harness/' },
    },
    {
      name: 'product-runtime-dependencies-only',
      severity: 'error',
      comment:
        'The worker image installs the dependencies only (npm prune --omit=dev): product code imports no devDependency, nor a package package.json does not declare.',
      from: { path: PRODUCT },
      to: { dependencyTypes: ['npm-dev', 'npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
