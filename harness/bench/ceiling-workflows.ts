/**
 * Workflow code of the throughput benchmark's platform ceiling (bench/throughput.ts), bundled on
 * its own: a workflow that does nothing but run `activities` no-op activities one after another,
 * with the same timeouts as the product's API activities. Deterministic: workflow code only.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface CeilingActivities {
  noop(): Promise<void>;
}

const { noop } = proxyActivities<CeilingActivities>({
  startToCloseTimeout: '45 seconds',
  scheduleToCloseTimeout: '1 hour',
});

export async function ceilingWorkflow(activities: number): Promise<void> {
  for (let i = 0; i < activities; i++) await noop();
}
