/**
 * Issue 18 (ADR 0018): the worker's workflow bundle evaluates zod and async-mutex once per V8
 * context (the bundler's `preloadModules`), not once per workflow, and the workflows still run on
 * the shared, frozen modules: recorded histories replay one after another on one replay worker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { bundleWorkflows, PRELOAD_MODULES } from '../../worker/worker';
import type * as Workflows from '../../workflows';

let bundle: WorkflowBundle;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});

test('issue 18: the workflow bundle preloads workflows/preload.ts (zod with its JIT off, async-mutex) before any workflow', () => {
  expect(PRELOAD_MODULES).toEqual([require.resolve('../../workflows/preload')]);
  const hook = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(bundle.code);
  expect(hook?.[1]).toMatch(/__webpack_require__/);
});

test('issue 18: user, group and connector histories replay one after another on one worker sharing the preloaded modules', async () => {
  const dir = path.join(__dirname, '..', 'fixtures', 'histories');
  const files = fs.readdirSync(dir).filter((f) => /^(user|group|connector)-/.test(f));
  const histories = files.flatMap((file) => {
    const { workflowId, history } = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
      workflowId: string;
      history: string;
    };
    const decoded = proto.api.history.v1.History.decode(Buffer.from(history, 'base64'));
    // Twice each: the second run of a workflow type finds the shared modules already frozen.
    return [0, 1].map((i) => ({ workflowId: `${workflowId}/${i}`, history: decoded }));
  });
  const errors: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    replayed += 1;
    if (result.error) errors.push(`${result.workflowId}: ${String(result.error)}`);
  }
  expect(errors).toEqual([]);
  expect(replayed).toBe(histories.length);
});

test("issue 18: the workflows' entry point loads a workflow's module only when that workflow runs", async () => {
  const loaded: string[] = [];
  let workflows: typeof Workflows | undefined;
  jest.isolateModules(() => {
    for (const name of ['connector', 'feed', 'group', 'import', 'pacer', 'reconcile', 'user'])
      jest.doMock(`../../workflows/${name}`, () => {
        loaded.push(name);
        return { userWorkflow: (input: unknown) => Promise.resolve(input) };
      });
    workflows = jest.requireActual<typeof Workflows>('../../workflows');
  });
  expect(loaded).toEqual([]);
  const input = { connectorId: 'c', jumpcloudUserId: 'u', policy: {} } as never;
  await expect(workflows!.userWorkflow(input)).resolves.toBe(input);
  expect(loaded).toEqual(['user']);
});
