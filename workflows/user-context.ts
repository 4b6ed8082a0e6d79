/**
 * What one user workflow run works with: its activities, its input and live state (UserContext),
 * and what one convergence carries across its operations (UserRun).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Step, SyncRequest, UserPolicy, UserState, UserWorkflowInput } from '../contracts/user';
import { API_ACTIVITY_OPTIONS, apiActivities, type EntityPatches } from './entity';
import { userLabel, type SummaryPrivacy } from './summaries';

/** The activities a user workflow calls. */
export function userApi() {
  const { notion, jumpcloud } = apiActivities();
  return {
    notion,
    jumpcloud,
    // Notion answers a userName change onto another account's email with a 500: a few attempts only.
    notionRename: apiActivities({
      scheduleToCloseTimeout: undefined,
      retry: { ...API_ACTIVITY_OPTIONS.retry, maximumAttempts: 3 },
    }).notion,
    // The connector answers these; if it cannot for an hour, the user records the error.
    main: proxyActivities<Activities>({
      startToCloseTimeout: '1 minute',
      scheduleToCloseTimeout: '1 hour',
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
    }),
  };
}

/**
 * The user workflow's patches, all covered by its baseline (`entityPatches`, issue 18): a run
 * started by this code records that one marker instead of one per patch.
 */
export const USER_BASELINE_PATCH = 'user-baseline-issue-18';
export type UserPatch =
  | 'u9-invisible-characters'
  | 'c6-creation-guard'
  | 'c6-deactivation-guard'
  | 'identity-claims'
  | 'confirm-before-deactivate'
  | 'g9-groups-after-provision'
  | 'notion-last-known-facts';

/** A user workflow's run: its input, its live state, its activities and its patches. */
export interface UserContext {
  input: UserWorkflowInput;
  state: UserState;
  api: ReturnType<typeof userApi>;
  policy: () => UserPolicy;
  patches: EntityPatches<UserPatch>;
}

/** One convergence: the request, its log, and what C6 needs to know across its operations. */
export interface UserRun {
  request: SyncRequest;
  steps: Step[];
  /** The change held before this convergence (held stays held until an admin decides). */
  previouslyHeld: UserState['held'];
  /** An admin rejected this user's held change before. */
  previouslyRejected: boolean;
  /** …and it stays rejected after this convergence. */
  rejectionKept: boolean;
  /** Issue 18: this convergence planned on the member as last read or written, not read now. */
  lastKnownNotion?: boolean;
  /** U6: the worker found the member protected when it came to deactivate it. */
  protectedAtDeactivation?: boolean;
}

/** Issue 19: whether this user's summaries in the UI may name it (UI_SUMMARIES_PII). */
export function summaryPrivacy(ctx: UserContext): SummaryPrivacy {
  return { personal: ctx.policy().personalSummaries === true };
}

/** Who the user is in an activity's summary: its email when allowed and known, else its JumpCloud id. */
export function who(ctx: UserContext, email?: string): string {
  return userLabel(summaryPrivacy(ctx), ctx.input.jumpcloudUserId, {
    email: email ?? ctx.state.email,
    username: ctx.state.username,
  });
}
