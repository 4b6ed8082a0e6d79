/**
 * The connector workflow (`jcn/<connector>/connector`): one per connector, as long-lived as the
 * connector. It holds the connector's state and answers `status`. It continues-as-new before its
 * history grows large, after its message handlers have finished.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { Activities, WorkerHealth } from '../activities';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';

export const connectorStateSchema = z.object({
  connectorId: z.string().min(1),
  activated: z.boolean(),
  groupManagement: z.boolean(),
  lastWorkerCheck: z.object({ at: z.string(), worker: z.string() }).optional(),
});
export type ConnectorState = z.infer<typeof connectorStateSchema>;

export const connectorInputSchema = z.object({
  connectorId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/),
  /** Carried over by continue-as-new. */
  state: connectorStateSchema.optional(),
});
export type ConnectorInput = z.infer<typeof connectorInputSchema>;

export type ConnectorStatus = ConnectorState;

/** The connector's state (SPEC §8 `status`). */
export const statusQuery = defineQuery<ConnectorStatus>('status');

/** Asks one worker of the cluster for its health, through an activity. */
export const checkWorkersUpdate = defineUpdate<WorkerHealth>('checkWorkers');

const { workerHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

/** Keeps histories small even where the server does not suggest continue-as-new. */
const MAX_HISTORY_EVENTS = 2_000;

export async function connectorWorkflow(rawInput: ConnectorInput): Promise<void> {
  const parsed = connectorInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid connector input: ${parsed.error.issues[0]?.message}`,
      'InvalidInput',
    );
  }
  const input = parsed.data;
  const state: ConnectorState = input.state ?? {
    connectorId: input.connectorId,
    activated: false,
    groupManagement: false,
  };
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.connectorId, value: state.connectorId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'connector' },
  ]);

  setHandler(statusQuery, () => state);
  setHandler(checkWorkersUpdate, async () => {
    const health = await workerHealth();
    state.lastWorkerCheck = { at: new Date().toISOString(), worker: health.worker };
    return health;
  });

  await condition(
    () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS,
  );
  await condition(allHandlersFinished);
  await continueAsNew<typeof connectorWorkflow>({ connectorId: state.connectorId, state });
}
