/**
 * The third-party modules of the workflow code that the worker evaluates once per V8 context
 * instead of once per workflow (issue 18, ADR 0018): the bundler's `preloadModules`. The SDK
 * evaluates the bundle's other modules again for every workflow it starts or replays; zod's alone
 * was about a tenth of the workflow thread in a large sync. A preloaded module is shared by every
 * workflow and deep-frozen: only stateless modules belong here (the contracts build and cache
 * their schemas, so they stay per workflow).
 */
import 'async-mutex';
// The SDK's public entry point: its internals are shared already; its index (re-exports, metrics,
// nexus) would otherwise be evaluated again for every workflow.
import '@temporalio/workflow';
import { z } from 'zod';

// A workflow builds its schemas afresh and parses its input once: zod's JIT (a function compiled
// per object schema on its first parse) costs more than it saves there. Set before the freeze.
z.config({ jitless: true });
// zod caches on a module object whether code generation is allowed, on the first object parse; a
// frozen module could not take it later: decide it now.
z.object({ preload: z.boolean() }).safeParse({ preload: true });

export const PRELOADED = true;
