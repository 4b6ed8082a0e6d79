/**
 * Issue 15: how a reconciliation follows what it handed over: it counts, through visibility, the
 * entities that settled its request, until enough have or its time is up.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { abortableCall } from '../common/abort';
import { EntityGateway } from '../temporal/entities';
import { reportProgress } from './progress';

export interface AwaitReconciledInput {
  connectorId: string;
  reconcileId: string;
  kind: 'user' | 'group';
  target: number;
  waitMs: number;
}

/** Which entities to count: those of one kind that settled one reconciliation's request. */
export interface SettledFilter {
  connectorId: string;
  kind: 'user' | 'group';
  reconcileId: string;
  /** Only those in this sync state (`error`: settled in error). */
  syncState?: string;
}

/**
 * How many entities settled a reconciliation's request, through visibility. `signal` (the
 * activity's cancellation) ends the call in flight: none outlives the activity and its client.
 */
export function countSettled(client: Client, signal: AbortSignal, filter: SettledFilter): Promise<number> {
  const gateway = new EntityGateway(client);
  return abortableCall(client, signal, () => gateway.count(filter));
}

/**
 * Waits (up to `waitMs`, heartbeating) until `target` entities of this kind have settled the
 * reconciliation's request; answers how many have, and how many of them in error. The activity's
 * cancellation (its workflow's, or the worker shutting down) ends the wait and the visibility
 * call in flight: none outlives the activity and its client.
 */
export async function awaitReconciled(
  client: Client,
  input: AwaitReconciledInput,
): Promise<{ settled: number; failed: number }> {
  const context = Context.current();
  const { connectorId, kind, reconcileId } = input;
  const count = (syncState?: string) =>
    countSettled(client, context.cancellationSignal, {
      connectorId,
      kind,
      reconcileId,
      ...(syncState ? { syncState } : {}),
    });
  const deadline = Date.now() + input.waitMs;
  let settled = await count();
  while (settled < input.target && Date.now() < deadline) {
    reportProgress({ settled });
    await context.sleep(1000); // rejects once the activity is cancelled
    settled = await count();
  }
  return { settled, failed: await count('error') };
}
