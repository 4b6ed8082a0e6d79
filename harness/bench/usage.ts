/**
 * What a benchmark phase cost (issue 18): the CPU of this process (the in-process worker, its
 * workflow threads and the emulators) and of the Temporal server's process, the peak resident
 * memory of this process, and the shape of the workflows' histories (events and workflow tasks per
 * execution, from a sample of them).
 */
import fs from 'node:fs';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

export interface PhaseUsage {
  /** CPU seconds of this process (every thread). */
  cpuS: number;
  /** CPU seconds of the server's process, when it is known and readable (Linux /proc). */
  serverCpuS?: number;
  /** The highest resident set size of this process seen during the phase, in MiB. */
  peakRssMiB: number;
}

/** /proc/<pid>/stat's utime + stime, in seconds; undefined elsewhere than Linux. */
function processCpuS(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces), from the third one on.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    // In clock ticks of USER_HZ, which is 100 on Linux whatever the kernel's own tick rate.
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the server is quiet (under `idleCores` of CPU over a second, twice in a row) or
 * `maxMs` passed, and answers how long that took. A phase ends when its workflows are done, but
 * the server still writes their visibility records for a while (a 10,000-workflow phase for tens
 * of seconds): the next phase would share the server with that tail and be billed its CPU.
 */
export async function awaitQuietServer(
  serverPid: number | undefined,
  { idleCores = 0.15, maxMs = 120_000 } = {},
): Promise<number> {
  const start = Date.now();
  let quietSeconds = 0;
  let last = processCpuS(serverPid);
  if (last === undefined) return 0;
  while (quietSeconds < 2 && Date.now() - start < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = processCpuS(serverPid);
    if (now === undefined) return Date.now() - start;
    quietSeconds = now - last < idleCores ? quietSeconds + 1 : 0;
    last = now;
  }
  return Date.now() - start;
}

/** Starts measuring; `stop()` returns what the phase cost since. */
export function measureUsage(serverPid?: number): { stop(): PhaseUsage } {
  const cpu0 = process.cpuUsage();
  const server0 = processCpuS(serverPid);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 500);
  sampler.unref();
  return {
    stop() {
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const cpu = process.cpuUsage(cpu0);
      const server1 = processCpuS(serverPid);
      return {
        cpuS: (cpu.user + cpu.system) / 1e6,
        ...(server0 !== undefined && server1 !== undefined ? { serverCpuS: server1 - server0 } : {}),
        peakRssMiB: peak / 2 ** 20,
      };
    },
  };
}

export interface HistoryShape {
  /** How many executions were read. */
  sampled: number;
  eventsPerExecution: number;
  workflowTasksPerExecution: number;
  /** The first sampled execution's events, by type (for BENCH_VERBOSE). */
  firstEvents: string[];
}

/** Mean events and completed workflow tasks of the latest run of each of `workflowIds`. */
export async function historyShape(client: Client, workflowIds: string[]): Promise<HistoryShape> {
  let events = 0;
  let tasks = 0;
  let firstEvents: string[] | undefined;
  for (const workflowId of workflowIds) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    firstEvents ??= (history.events ?? []).map((event) =>
      (EventType[event.eventType ?? 0] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, ''),
    );
    for (const event of history.events ?? []) {
      events += 1;
      if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) tasks += 1;
    }
  }
  const n = Math.max(1, workflowIds.length);
  return {
    sampled: workflowIds.length,
    eventsPerExecution: events / n,
    workflowTasksPerExecution: tasks / n,
    firstEvents: firstEvents ?? [],
  };
}

/** `count` items spread evenly over `items`. */
export function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

export function formatUsage(usage: PhaseUsage, per: number, unit: string): string {
  const ms = (seconds: number) => `${((1000 * seconds) / per).toFixed(1)} ms`;
  return [
    `CPU ${ms(usage.cpuS)} per ${unit} in this process (worker and emulators)`,
    ...(usage.serverCpuS !== undefined ? [`${ms(usage.serverCpuS)} in the Temporal server`] : []),
    `peak memory ${usage.peakRssMiB.toFixed(0)} MiB`,
  ].join(', ');
}

export function formatShape(shape: HistoryShape): string {
  return `${shape.eventsPerExecution.toFixed(1)} history events and ${shape.workflowTasksPerExecution.toFixed(1)} workflow tasks per execution (${shape.sampled} sampled)`;
}
