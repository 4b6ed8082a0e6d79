/**
 * The workflow code's own cost (issue 18, ADR 0018), without a server or the network: the CPU of
 * replaying a recorded user workflow history (test/fixtures/histories: a user created by a
 * reconciliation, then converged again) many times in this process, once with the workflow bundle
 * as the worker builds it (zod and async-mutex preloaded once per V8 context) and once with every
 * module evaluated per workflow (the reference, as before issue 18). Little noise: it is the
 * number to watch when changing the workflow code's hot path. Target: the preloaded bundle costs
 * less than the reference.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { bundleWorkflows } from '../../worker/worker';

const FIXTURE = path.resolve(__dirname, '../../test/fixtures/histories/user-person3-30d17c65.json');
const REPLAYS = Number(process.env.BENCH_REPLAYS ?? 500);
const WARM_UP = 50;

function readHistory() {
  const { workflowId, history } = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as {
    workflowId: string;
    history: string;
  };
  return { workflowId, history: proto.api.history.v1.History.decode(Buffer.from(history, 'base64')) };
}

/** CPU milliseconds of this process per replay of `history`, `count` times on one replay worker. */
async function replayCost(bundle: WorkflowBundle, count: number): Promise<number> {
  const { workflowId, history } = readHistory();
  // runReplayHistories takes any iterable: a plain generator of the same history.
  const histories = function* (n: number) {
    for (let i = 0; i < n; i++) yield { workflowId: `${workflowId}/${i}`, history };
  };
  const run = async (n: number) => {
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories(n)))
      if (result.error) throw result.error;
  };
  await run(WARM_UP);
  const before = process.cpuUsage();
  await run(count);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / count;
}

export async function benchReplay(): Promise<boolean> {
  const events = readHistory().history.events?.length ?? 0;
  const preloaded = await replayCost(await bundleWorkflows(), REPLAYS);
  const reference = await replayCost(await bundleWorkflows(undefined, { preload: false }), REPLAYS);
  const ok = preloaded < reference;
  console.log(
    `replay: a user workflow's recorded history (${events} events), replayed ${REPLAYS} times: ${preloaded.toFixed(1)} ms CPU each with the worker's bundle (zod, async-mutex preloaded) vs ${reference.toFixed(1)} ms with every module evaluated per workflow (before issue 18) ${ok ? 'OK' : 'BELOW TARGET'}`,
  );
  return ok;
}
