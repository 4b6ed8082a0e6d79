/**
 * Applying one planned operation of a user (create, reactivate, update, deactivate…) as activities,
 * each step written to the user's log; creations and deactivations pass the C6 guard first.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { failureType } from './entity';
import { STEPS } from './summaries';
import { who, type UserContext, type UserRun } from './user-context';
import { claim, link } from './user-link';
import { creationAllowed, deactivationAllowed } from './user-guard';
import { planUser, withChanges, type UserOperation } from './user-plan';

export async function applyUserOperation(
  ctx: UserContext,
  run: UserRun,
  operation: UserOperation,
): Promise<void> {
  const { state, api } = ctx;
  const { steps } = run;
  switch (operation.kind) {
    case 'create': {
      if (ctx.patches.has('c6-creation-guard') && !creationAllowed(ctx, run, operation.user.userName)) return;
      const created = await api.notion.notionCreateUser.executeWithOptions(
        { summary: STEPS.user.create(who(ctx, operation.user.userName)) },
        [operation.user],
      );
      if (created.outcome === 'created') {
        link(state, created.user.id);
        state.notionFacts = created.user;
        steps.push({
          step: `create Notion user ${operation.user.userName}`,
          outcome: `created ${created.user.id}`,
        });
        return;
      }
      // U3: a member with this email exists already: link it, then converge its attributes.
      const existing = await api.notion.notionFindUserByEmail.executeWithOptions(
        {
          summary: STEPS.user.findExisting(who(ctx, operation.user.userName)),
        },
        [operation.user.userName],
      );
      steps.push({
        step: `create Notion user ${operation.user.userName}`,
        outcome: 'already a member: linked',
      });
      if (!existing)
        throw ApplicationFailure.nonRetryable(
          'Notion answered 409 but finds no member with this email',
          'Conflict',
        );
      await claim(ctx, existing);
      state.notionFacts = existing;
      const follow = planUser({
        scope: { inScope: true },
        mapping: { ok: true, user: operation.user },
        notion: existing,
        linked: true,
        protectedUsers: ctx.policy().protectedUsers,
      });
      const followRun: UserRun = { ...run, request: { reason: 'follow-up' }, previouslyHeld: undefined };
      for (const next of follow) await applyUserOperation(ctx, followRun, next);
      return;
    }
    case 'reactivate': {
      const outcome = await api.notion.notionActivateUser.executeWithOptions(
        { summary: STEPS.user.reactivate(who(ctx, operation.user.userName)) },
        [operation.notionId, operation.user.userName],
      );
      if (outcome === 'activated') {
        if (state.notionFacts) state.notionFacts = { ...state.notionFacts, active: true };
        steps.push({ step: 'reactivate Notion member (active=true)', outcome: 'activated' });
        return;
      }
      // U7: the id is gone: POST re-adds the existing account.
      const created = await api.notion.notionCreateUser.executeWithOptions(
        { summary: STEPS.user.readd(who(ctx, operation.user.userName)) },
        [operation.user],
      );
      if (created.outcome !== 'created')
        throw ApplicationFailure.nonRetryable(
          'Notion no longer knows the id but refuses to re-add the user',
          'Conflict',
        );
      link(state, created.user.id);
      state.notionFacts = created.user;
      steps.push({
        step: 'reactivate Notion member (re-added by POST)',
        outcome: `re-added ${created.user.id}`,
      });
      return;
    }
    case 'update': {
      const proxy = operation.changes.userName ? api.notionRename : api.notion;
      try {
        const updated = await proxy.notionUpdateUser.executeWithOptions(
          { summary: STEPS.user.update(who(ctx), Object.keys(operation.changes)) },
          [operation.notionId, operation.changes, state.email ?? operation.notionId],
        );
        state.notionFacts =
          updated ?? (state.notionFacts ? withChanges(state.notionFacts, operation.changes) : undefined);
        steps.push({ step: `update ${Object.keys(operation.changes).join(', ')}`, outcome: 'updated' });
      } catch (error) {
        if (operation.changes.userName && failureType(error) === 'ServerError')
          throw ApplicationFailure.nonRetryable(
            `Notion refused to change the email to ${operation.changes.userName} (it answers 500 when another Notion account has that email)`,
            'Conflict',
          );
        throw error;
      }
      return;
    }
    case 'deactivate': {
      if (ctx.patches.has('c6-deactivation-guard') && !(await deactivationAllowed(ctx, run, operation)))
        return;
      const outcome = await api.notion.notionDeactivateUser.executeWithOptions(
        {
          summary: STEPS.user.deactivate(who(ctx), operation.reason),
        },
        [operation.notionId, state.email ?? operation.notionId],
      );
      // U6 (NOTION_PROTECTED_USERS): the worker found the member protected at the moment of acting.
      if (outcome === 'protected') run.protectedAtDeactivation = true;
      if (outcome === 'deactivated' && state.notionFacts)
        state.notionFacts = { ...state.notionFacts, active: false };
      if (outcome === 'already-removed') state.notionFacts = undefined;
      steps.push({
        step: `deactivate Notion member (active=false; ${operation.reason})`,
        outcome:
          outcome === 'protected'
            ? 'skipped: protected user (NOTION_PROTECTED_USERS, a workspace owner or the token owner)'
            : outcome,
      });
      return;
    }
    case 'protected':
      steps.push(
        operation.reason === 'email-change'
          ? {
              step: 'change the email',
              outcome:
                'skipped: the member is protected by NOTION_PROTECTED_USERS and its new email is not listed there: add it, then the change is made',
            }
          : {
              step: `deactivate Notion member (${operation.reason})`,
              outcome: `skipped: protected user (${operation.by})`,
            },
      );
      return;
    case 'invalid': {
      const problems = operation.problems.map((p) => `${p.field} ${p.message}`).join('; ');
      state.error = {
        code: 'InvalidData',
        message: `cannot be provisioned: ${problems}`,
        at: new Date().toISOString(),
      };
      state.status = 'error';
      steps.push({ step: 'validate JumpCloud data', outcome: state.error.message });
      return;
    }
  }
}
