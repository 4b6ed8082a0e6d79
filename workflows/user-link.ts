/**
 * A user's durable link to its Notion member (U3), and the rule that one member is linked to one
 * JumpCloud user only (issue 14).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { UserState } from '../contracts/user';
import type { EntityPatches } from './entity';

/** What linking needs of a user workflow's context (user-apply.ts's UserContext has it). */
interface LinkContext {
  input: { connectorId: string; jumpcloudUserId: string };
  state: UserState;
  api: {
    main: {
      notionIdOwners(
        connectorId: string,
        notionId: string,
        jumpcloudUserId: string,
      ): Promise<{ jumpcloudId: string; username?: string }[]>;
    };
  };
  patches: EntityPatches<'identity-claims'>;
}

export function link(state: UserState, notionId: string): void {
  state.notionId = notionId;
  state.linked = true;
}

/**
 * Issue 14: links this user to a Notion member it was not linked to, unless another JumpCloud
 * user holds that member (their emails are one identity once normalised and case-folded): then
 * nothing is linked or written, and the user records an IdentityConflict naming the other.
 */
export async function claim(ctx: LinkContext, notion: { id: string; userName: string }): Promise<void> {
  if (ctx.state.notionId === notion.id) return link(ctx.state, notion.id);
  if (ctx.patches.has('identity-claims')) {
    const owners = await ctx.api.main.notionIdOwners(
      ctx.input.connectorId,
      notion.id,
      ctx.input.jumpcloudUserId,
    );
    if (owners.length > 0)
      throw identityConflict(
        notion.userName,
        notion.id,
        owners.map((o) => o.username ?? o.jumpcloudId),
      );
  }
  link(ctx.state, notion.id);
}

export function identityConflict(userName: string, notionId: string, others: string[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `the Notion member ${userName} (${notionId}) is also claimed by JumpCloud user(s) ${others.join(', ')}: their emails are the same address once normalised and case-folded; nothing is written for this user until one of them changes`,
    'IdentityConflict',
  );
}
