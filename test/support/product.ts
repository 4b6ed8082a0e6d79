/**
 * The product wired to the emulators for an end-to-end test file: its settings (one connector,
 * one task queue of its own) and its workers, running in the test process until `stop`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../../temporal/search-attributes';
import { createWorkers } from '../../worker/worker';
import { dataConverterFor, isEncrypted } from '../../temporal/data-converter';
import type { Config } from '../../config/config';
import { cleanEnv } from './cli';
import { TEST_SECRETS, testWorkerConfig } from './config';
import { uniqueTaskQueue, type TestTemporal } from './temporal';

export interface EmulatorOrigins {
  jumpcloud: string;
  notion: string;
}

/** Settings that point a worker (and the CLI) at this file's dev server and emulators. */
export function productSettings(
  temporal: TestTemporal,
  connectorId: string,
  origins: EmulatorOrigins,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue(connectorId),
    CONNECTOR_ID: connectorId,
    JUMPCLOUD_BASE_URL: origins.jumpcloud,
    JUMPCLOUD_INSIGHTS_URL: `${origins.jumpcloud}/insights/directory/v1`,
    NOTION_SCIM_BASE_URL: `${origins.notion}/scim/v2`,
    NOTION_MAX_RPS: '300',
    JUMPCLOUD_MAX_RPS: '300',
    ...extra,
  };
}

export interface ProductWorkers {
  /** The environment for `jc-notion` commands run against these workers. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts the product's workers in this process with `settings`. */
export async function startProductWorkers(
  temporal: TestTemporal,
  settings: Record<string, string>,
  options: { apiActivitySlots?: number; dispatchWindow?: number } = {},
): Promise<ProductWorkers> {
  const config = testWorkerConfig(settings);
  const workers = await createWorkers({
    config,
    connection: temporal.nativeConnection,
    client: temporal.client,
    workflowBundle: await temporal.workflowBundle({ encrypted: isEncrypted(config) }),
    ...options,
  });
  const running = workers.run();
  return {
    env: cleanEnv(settings),
    stop: async () => {
      workers.shutdown();
      await running;
    },
  };
}

/**
 * §7 and SPEC §2 for a whole story: every workflow history of the connector replays against the
 * workflow code, and no secret appears in any of them (inputs, results, signals, failures).
 * Returns how many histories were checked. With `RECORD_HISTORIES=<dir>`, the histories `fixture`
 * names are written there as replay fixtures (test/replay.test.ts).
 */
export async function checkHistories(
  temporal: TestTemporal,
  connectorId: string,
  fixture: (execution: WorkflowExecutionInfo) => string | undefined = () => undefined,
  /** Issue 16: the workers' privacy settings, when their histories are encrypted. */
  privacy?: Config['privacy'],
): Promise<number> {
  const recordDir = process.env.RECORD_HISTORIES;
  const query = `${SEARCH_ATTRIBUTES.connectorId.name} = "${connectorId}"`;
  const encrypted = privacy ? isEncrypted({ privacy }) : false;
  // One listing, each history fetched once: a run that starts meanwhile (a Schedule's, a new
  // user's) is in both checks or in neither.
  const histories: { execution: WorkflowExecutionInfo; history: proto.api.history.v1.IHistory }[] = [];
  for await (const execution of temporal.client.workflow.list({ query }))
    histories.push({
      execution,
      history: await temporal.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory(),
    });
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    {
      workflowBundle: await temporal.workflowBundle({ encrypted }),
      dataConverter: privacy ? dataConverterFor({ privacy }) : undefined,
    },
    histories.map(({ execution, history }) => ({ workflowId: execution.workflowId, history })),
  )) {
    expect([result.workflowId, result.error]).toEqual([result.workflowId, undefined]);
    replayed += 1;
  }
  for (const { execution, history } of histories) {
    const bytes = Buffer.from(proto.api.history.v1.History.encode(history).finish());
    for (const secret of Object.values(TEST_SECRETS))
      expect([execution.workflowId, bytes.includes(secret)]).toEqual([execution.workflowId, false]);
    const name = recordDir ? fixture(execution) : undefined;
    if (recordDir && name) {
      // Binary protobuf (base64): exact, and free of proto-JSON's pitfalls under jest.
      fs.mkdirSync(recordDir, { recursive: true });
      fs.writeFileSync(
        path.join(recordDir, `${name}-${execution.runId.slice(0, 8)}.json`),
        `${JSON.stringify({ workflowId: execution.workflowId, history: bytes.toString('base64') })}\n`,
      );
    }
  }
  expect(replayed).toBe(histories.length);
  return replayed;
}
