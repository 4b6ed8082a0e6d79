/**
 * Architecture checks (`npm run lint`): no import cycle among the product's modules, type-only
 * imports included (workflows import the activity interfaces as types, the Temporal norm, so
 * activities must not import workflow implementations back: they use the contracts and start
 * workflows by type name).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Modules import each other in a circle; move what both need into a contract or shared module.',
      // The product (what a worker image ships); the harness (emulators, local stack, bench) is not held to it.
      from: { path: '^(workflows|activities|contracts|client|worker|api|config|common|temporal)/' },
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
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
