/**
 * The stack a benchmark runs on, on free ports, with no demo data and quiet logs: the local stack
 * (SPEC §8: the dev server and one in-process worker) by default, or with `--cluster`
 * (`BENCH_TOPOLOGY=cluster`) the production topology of issue 17 — a Temporal cluster on
 * PostgreSQL and `BENCH_WORKERS` (default 1) `jc-notion worker` processes.
 */
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectorStart } from '../../client/temporal';
import { parseConfig, type WorkerConfig } from '../../config/config';
import { activateUpdate, startSyncUpdate } from '../../contracts/connector';
import { type reconcileWorkflow } from '../../workflows/reconcile';
import type { JumpCloudEmulator } from '../emulators/jumpcloud';
import type { NotionEmulator } from '../emulators/notion';
import { startClusterStack } from '../local/cluster-stack';
import { freeLocalPorts, startLocalStack } from '../local/stack';

export interface BenchStack {
  /** `dev server` or `cluster (N workers)`, for the report. */
  topology: string;
  config: WorkerConfig;
  /** The Temporal server's process, when it is one this process started (the dev server). */
  serverPid?: number;
  jumpcloud: JumpCloudEmulator;
  notion: NotionEmulator;
  stop(): Promise<void>;
}

export const benchOnCluster = () => process.env.BENCH_TOPOLOGY === 'cluster';

export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  const progress = process.env.BENCH_VERBOSE
    ? (line: string) => process.stderr.write(`stack: ${line}\n`)
    : () => undefined;
  if (!benchOnCluster()) {
    const stack = await startLocalStack({
      ports: await freeLocalPorts(),
      seed: 'none',
      progress,
      env: { LOG_LEVEL: 'error', ...env },
    });
    return { topology: 'dev server, 1 worker', serverPid: stack.temporal.pid, ...stack };
  }
  // The workers are processes of their own; this process's SDK (the ceiling's worker) logs warnings only.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const workers = Number(process.env.BENCH_WORKERS ?? 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-bench-cluster-'));
  const stack = await startClusterStack({
    dir,
    database: `jcn_bench_${process.pid}_${Date.now().toString(36)}`,
    workers,
    // The CLI from the sources, as `npm run bench` runs the harness.
    command: {
      file: process.execPath,
      args: ['--import', 'tsx', path.resolve(__dirname, '../../client/main.ts')],
    },
    env: { LOG_LEVEL: 'error', ...env },
    progress,
  });
  return {
    topology: `cluster on PostgreSQL, ${workers} worker process${workers === 1 ? '' : 'es'}`,
    config: parseConfig(stack.env, 'worker') as WorkerConfig,
    jumpcloud: stack.jumpcloud,
    notion: stack.notion,
    stop: async () => {
      await stack.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Activates the bench's connector with creations approved; its handle, once the credentials are verified. */
export async function activateConnector(client: Client, config: WorkerConfig) {
  const start = connectorStart(config);
  const verification = await client.workflow.executeUpdateWithStart(activateUpdate, {
    args: [{ approveCreations: true }],
    startWorkflowOperation: start,
  });
  if (!verification.verified) throw new Error(`not activated: ${verification.reasons.join('; ')}`);
  return start.workflowHandle();
}

/** Activates the connector, then runs a sync (a reconciliation) to its end. */
export async function activateAndSync(client: Client, config: WorkerConfig): Promise<void> {
  const connector = await activateConnector(client, config);
  const sync = await connector.executeUpdate(startSyncUpdate, { args: [{ dryRun: false }] });
  await client.workflow.getHandle<typeof reconcileWorkflow>(sync.workflowId).result();
}
