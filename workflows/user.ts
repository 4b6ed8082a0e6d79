/**
 * One workflow per JumpCloud user (`jcn/<connector>/user/<JumpCloud id>`): the durable link to its
 * Notion user, the last outcome and per-user errors. It wakes on a `sync` signal (or the C8
 * `provision` Update), converges (user-sync.ts: read, plan with the pure planner, apply one
 * activity at a time), so its history reads as the user's provisioning log. Per-user errors are
 * recorded, never retried in a loop, and never block other users.
 */
import { continueAsNew, setHandler } from '@temporalio/workflow';
import { Mutex } from 'async-mutex';
import { MAX_HISTORY_EVENTS } from '../contracts/shared';
import {
  provisionUserUpdate,
  syncUserSignal,
  userStateQuery,
  userWorkflowInputSchema,
  type SyncRequest,
  type UserState,
  type UserWorkflowInput,
} from '../contracts/user';
import { entityPatches, parseInput, tagEntity } from './entity';
import { runEntityLoop } from './entity-loop';
import { USER_BASELINE_PATCH, userApi, type UserContext, type UserPatch } from './user-context';
import { mergeSyncRequests } from './user-plan';
import { convergeUser, showUser } from './user-sync';

export async function userWorkflow(rawInput: UserWorkflowInput): Promise<void> {
  const patches = entityPatches<UserPatch>(USER_BASELINE_PATCH);
  const input = parseInput(userWorkflowInputSchema, rawInput, 'user workflow');
  const state: UserState = input.state ?? { linked: false, status: 'pending', deletedInJumpCloud: false };
  const ctx: UserContext = {
    input,
    state,
    api: userApi(),
    policy: () => state.policy ?? input.policy,
    patches,
  };
  const pending: SyncRequest[] = [...(input.pending ?? [])];
  const lock = new Mutex();
  tagEntity('user', input.connectorId, input.jumpcloudUserId, patches);
  showUser(ctx);

  setHandler(userStateQuery, () => state);
  setHandler(syncUserSignal, (request) => {
    pending.push(request);
  });
  setHandler(provisionUserUpdate, () =>
    lock.runExclusive(async () => ({ steps: await convergeUser(ctx, { reason: 'provision' }), state })),
  );

  await runEntityLoop({
    pending,
    lock,
    merge: mergeSyncRequests,
    converge: (request) => convergeUser(ctx, request),
    maxHistoryEvents: input.maxHistoryEvents ?? MAX_HISTORY_EVENTS,
  });
  await continueAsNew<typeof userWorkflow>({ ...input, state, pending });
}
