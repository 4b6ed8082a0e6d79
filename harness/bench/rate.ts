/**
 * Request rates (SPEC §9, ADR 0004, ADR 0012): with Notion limited to R requests/s (a burst of
 * two seconds' worth, as Notion allows bursts) and `NOTION_MAX_RPS=R`, three worker processes
 * together sustain at least 90% of R, never more than R, with no 429 — single requests and bulk
 * reads together.
 *
 * The local stack (dev server, emulators, one worker in this process) plus two `jc-notion worker`
 * processes; a driver workflow (bench/rate-workflows.ts) reads Notion users at once through the
 * product's rate-limited `notionGetUser` activity (single requests) and, at the same time, runs
 * two dry-run reconciliations whose Notion listings (pages of 100 over 50 members per single read)
 * lease their permits from the pacer (bulk reads):
 * about 35 seconds' worth of each, so over a minute of work in all. The sustained rate is measured
 * between the 10th and the 90th percentile of the requests, away from the limiter's initial burst
 * and from the tail, when only some of the queue's partitions still hold tasks. `BENCH_RATE`
 * (default `3,20`) lists the rates R to measure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import type { RequestRecord } from '../emulators/common/control';
import { connectClient, connectWorker } from '../../temporal/connection';
import { taskQueues } from '../../temporal/task-queues';
import { startBenchStack } from './stack';
import type { notionReadsWorkflow } from './rate-workflows';

const RATES = (process.env.BENCH_RATE ?? '3,20').split(',').map(Number);
/** Seconds' worth of single reads, and of bulk reads. */
const SECONDS_OF_EACH = 35;
/** Notion members per single read: two listings of all of them are as many pages as single reads. */
const MEMBERS_PER_READ = 50;
const EXTRA_WORKERS = 2;
const TARGET_SHARE = 0.9;
const ENTRY = path.join(__dirname, '..', '..', 'client', 'main.ts');

export async function benchRate(): Promise<boolean> {
  let ok = true;
  for (const rate of RATES) ok = (await benchRateAt(rate)) && ok;
  return ok;
}

async function benchRateAt(RATE: number): Promise<boolean> {
  const READS = Math.round(SECONDS_OF_EACH * RATE);
  const stack = await startBenchStack({
    NOTION_MAX_RPS: String(RATE),
    JUMPCLOUD_MAX_RPS: '300',
    POLL_INTERVAL: '1h',
    RECONCILE_INTERVAL: '1h',
  });
  const { config } = stack;
  const workers: ChildProcess[] = [];
  const client = await connectClient(config);
  try {
    stack.notion.seed({
      // Two bulk listings of READS / 2 pages each, and READS single reads among the members.
      users: Array.from({ length: MEMBERS_PER_READ * READS }, (_, i) => ({
        userName: `rate${i}@example.com`,
      })),
    });
    const ids = (stack.notion.state() as { users: { id: string }[] }).users.map((u) => u.id).slice(0, READS);
    for (let i = 0; i < EXTRA_WORKERS; i++)
      workers.push(
        spawn(process.execPath, ['--import', 'tsx', ENTRY, 'worker'], {
          env: {
            ...process.env,
            TEMPORAL_ADDRESS: config.temporal.address,
            TEMPORAL_NAMESPACE: config.temporal.namespace,
            TEMPORAL_TASK_QUEUE: config.temporal.configuredTaskQueue,
            NOTION_SCIM_BASE_URL: config.notion.scimBaseUrl,
            NOTION_SCIM_TOKEN: config.notion.token,
            NOTION_MAX_RPS: String(RATE),
            JUMPCLOUD_MAX_RPS: '300',
            CONNECTOR_ID: config.connectorId,
            JUMPCLOUD_BASE_URL: config.jumpcloud.baseUrl,
            JUMPCLOUD_API_KEY: config.jumpcloud.apiKey,
            JUMPCLOUD_APP_ID: config.jumpcloud.appId,
            POLL_INTERVAL: '1h',
            RECONCILE_INTERVAL: '1h',
            LOG_LEVEL: 'error',
          },
          stdio: 'ignore',
        }),
      );
    await waitForPollers(client, taskQueues(config.temporal.taskQueue).notion, 1 + EXTRA_WORKERS);
    stack.notion.control.setRateLimit({ rps: RATE, burst: 2 * RATE });
    stack.notion.control.clearRequests();

    const driverQueue = `${config.temporal.taskQueue}-rate-driver`;
    const driver = await Worker.create({
      connection: await connectWorker(config),
      namespace: config.temporal.namespace,
      taskQueue: driverQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./rate-workflows'),
        logger: new DefaultLogger('WARN'),
      }),
    });
    const found = await driver.runUntil(
      client.workflow.execute<typeof notionReadsWorkflow>('notionReadsWorkflow', {
        // Under the connector's ids: its workers refuse activities of any other workflow (issue 16).
        workflowId: `jcn/${config.connectorId}/bench-rate/${Date.now()}`,
        taskQueue: driverQueue,
        args: [
          {
            notionQueue: taskQueues(config.temporal.taskQueue).notion,
            mainQueue: config.temporal.taskQueue,
            connectorId: config.connectorId,
            ids,
            bulkReads: 2,
          },
        ],
      }),
    );

    const timeline = (
      await stack.notion.app.inject({ method: 'GET', url: '/_emulator/requests/timeline' })
    ).json<{ requests: RequestRecord[] }>().requests;
    const times = timeline.map((r) => r.at).sort((a, b) => a - b);
    const rejected = timeline.filter((r) => r.status === 429).length;
    const from = Math.floor(times.length * 0.1);
    const to = Math.floor(times.length * 0.9);
    const sustained = (to - from) / ((times[to]! - times[from]!) / 1000);
    const ok = found === READS && rejected === 0 && sustained >= TARGET_SHARE * RATE && sustained <= RATE;
    console.log(
      `rate: ${timeline.length} Notion requests (${READS} single reads, the rest pages of bulk listings) by ${1 + EXTRA_WORKERS} worker processes, NOTION_MAX_RPS ${RATE}, Notion limited to ${RATE}/s (burst ${2 * RATE}), over ${((times.at(-1)! - times[0]!) / 1000).toFixed(0)} s: ` +
        `sustained ${sustained.toFixed(1)}/s (target ${(TARGET_SHARE * RATE).toFixed(1)}–${RATE}), ${rejected} × 429, ` +
        `${found}/${READS} found ${ok ? 'OK' : 'BELOW TARGET'}`,
    );
    return ok;
  } finally {
    for (const worker of workers) worker.kill('SIGTERM');
    await Promise.all(
      workers.map(
        (w) => new Promise((resolve) => (w.exitCode !== null ? resolve(null) : w.once('exit', resolve))),
      ),
    );
    await client.connection.close();
    await stack.stop();
  }
}

async function waitForPollers(
  client: Awaited<ReturnType<typeof connectClient>>,
  queue: string,
  count: number,
): Promise<void> {
  for (let i = 0; i < 240; i++) {
    const described = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: queue, kind: 1 /* NORMAL */ },
      taskQueueType: 2 /* ACTIVITY */,
    });
    if ((described.pollers?.length ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`fewer than ${count} workers poll ${queue}`);
}
