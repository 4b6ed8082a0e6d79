/**
 * The bulk side of importing Notion members into JumpCloud (SPEC I1–I3), on the main task queue:
 * each activity reads both directories in pages (every request first takes a permit from the
 * calling workflow, so bulk reads share the cluster-wide rate limit: ADR 0004) and returns only
 * what its workflow needs. Nothing of the directories travels through history but the listing
 * (compressed) and the users selected for an import; a background import's users go straight to
 * its batch workflows, 100 per workflow.
 */
import { activityInfo } from '@temporalio/activity';
import { reportProgress } from './progress';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { JumpCloudClient, JumpCloudUser } from '../api/jumpcloud';
import type { NotionScimClient, NotionUser } from '../api/notion';
import { encodeImportList, type ImportListEntry } from '../common/import-list';
import { workflowIds } from '../temporal/ids';
import { statusQuery } from '../contracts/connector';
import {
  BACKGROUND_THRESHOLD,
  IMPORT_BATCH_SIZE,
  type ImportCandidate,
  type ImportListing,
  type ImportResult,
} from '../contracts/import';
import { splitName } from '../workflows/import-plan';
import { STARTS } from '../workflows/summaries';
import { userPolicyOf, withPacedClients } from './clients';
import { mapFailures } from './failures';
import type { ActivityDeps } from './deps';
import { EntityGateway } from '../temporal/entities';
import type { ImportBatchInput } from '../contracts/import';

export interface ImportListInput {
  connectorId: string;
}

export interface ImportPrepareInput {
  connectorId: string;
  importId: string;
  /** Lower-cased, de-duplicated; absent with `allNew`. */
  emails?: string[];
  allNew?: boolean;
  groupId?: string;
}

export interface ImportHandOverInput {
  connectorId: string;
  jumpcloudUserIds: string[];
}

export type ImportPreparation =
  | { refused: string }
  | {
      refused?: undefined;
      total: number;
      background: boolean;
      group?: { id: string; name: string };
      /** Emails given that are not active members of the Notion workspace. */
      failures: ImportResult[];
      /** Foreground: the users to import, in order. */
      users: ImportCandidate[];
      /** Background: how many batch workflows were started (they hold the users). */
      batches: number;
    };

/** The members the import is about: active ones (removed members are no longer in the workspace). */
async function notionMembers(
  notion: NotionScimClient,
): Promise<{ members: NotionUser[]; complete: boolean }> {
  let listing = await notion.listUsers();
  // Offset paging over an unstable order: one more try before reporting the listing as incomplete.
  if (!listing.complete) listing = await notion.listUsers();
  return { members: listing.items.filter((user) => user.active), complete: listing.complete };
}

/** Up to this many emails, `import run` looks the members up instead of listing the workspace. */
const LOOKUP_LIMIT = 50;

/** The active members with these emails (`filter=email eq …`, one request each). */
async function lookUpMembers(
  notion: NotionScimClient,
  emails: string[],
): Promise<{ members: NotionUser[]; complete: boolean }> {
  const members: NotionUser[] = [];
  for (const email of emails) {
    const member = await notion.findUserByEmail(email);
    if (member?.active && !members.some((m) => m.id === member.id)) members.push(member);
  }
  return { members, complete: true };
}

/** JumpCloud's users by lower-cased email (I1 compares emails case-insensitively). */
async function usersByEmail(jumpcloud: JumpCloudClient): Promise<Map<string, JumpCloudUser>> {
  const byEmail = new Map<string, JumpCloudUser>();
  for (const user of await jumpcloud.listUsers()) {
    const email = user.email?.trim().toLowerCase();
    if (email && !byEmail.has(email)) byEmail.set(email, user);
  }
  return byEmail;
}

function displayName(user: NotionUser): string {
  return (
    user.formatted?.trim() ||
    [user.givenName, user.familyName]
      .map((part) => part?.trim())
      .filter(Boolean)
      .join(' ') ||
    user.displayName?.trim() ||
    ''
  );
}

function candidateOf(user: NotionUser, existing?: JumpCloudUser, bound?: Set<string>): ImportCandidate {
  const { firstname, lastname } = splitName(user);
  return {
    email: user.userName,
    firstname,
    lastname,
    ...(existing
      ? {
          existing: {
            id: existing.id,
            username: existing.username,
            state: existing.state,
            managed: Boolean(bound?.has(existing.id)) && existing.state === 'ACTIVATED',
          },
        }
      : {}),
  };
}

/** Whether the connector is activated (C1), asked of its workflow. */
async function activated(client: Client, connectorId: string): Promise<boolean> {
  try {
    const status = await client.workflow.getHandle(workflowIds.connector(connectorId)).query(statusQuery);
    return status.activated;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

export function createImportActivities(deps: ActivityDeps) {
  const policy = userPolicyOf(deps.config);

  return {
    /**
     * I3: imported users that joined a bound group are handed to their user workflows now
     * (signal-with-start), which link them to their Notion user (U3) instead of waiting for the
     * change feed or the next reconciliation. Nothing is handed over while the connector is
     * deactivated (C2).
     */
    async importHandOver(input: ImportHandOverInput): Promise<number> {
      if (!(await activated(deps.temporal, input.connectorId))) return 0;
      const gateway = new EntityGateway(deps.temporal, deps.config.temporal.taskQueue);
      for (const id of input.jumpcloudUserIds)
        await gateway.syncUser(input.connectorId, id, policy, { reason: 'import', policy });
      return input.jumpcloudUserIds.length;
    },

    /** I1: every active Notion member, `New` or `Imported`, with name and email (compressed). */
    async importListUsers(input: ImportListInput): Promise<ImportListing> {
      reportProgress({ phase: 'listing', connectorId: input.connectorId });
      return withPacedClients(deps, (clients) =>
        mapFailures(async () => {
          const [{ members, complete }, byEmail] = await Promise.all([
            notionMembers(clients.notion),
            usersByEmail(clients.jumpcloud),
          ]);
          const entries: ImportListEntry[] = members.map((member) => {
            const existing = byEmail.get(member.userName);
            return existing
              ? {
                  status: 'Imported',
                  email: member.userName,
                  name: displayName(member),
                  jumpcloudUsername: existing.username,
                }
              : { status: 'New', email: member.userName, name: displayName(member) };
          });
          const newCount = entries.filter((e) => e.status === 'New').length;
          return {
            total: entries.length,
            newCount,
            importedCount: entries.length - newCount,
            complete,
            encoded: encodeImportList(entries),
          };
        }),
      );
    },

    /**
     * I2/I3: checks what must hold before anything is created (activation, the group's binding),
     * selects the users, and either returns them (under 100: the import workflow does them and
     * its caller follows) or hands them to batch workflows (100 or more).
     */
    async importPrepare(input: ImportPrepareInput): Promise<ImportPreparation> {
      if (!(await activated(deps.temporal, input.connectorId))) {
        return {
          refused:
            'the connector is not activated: run `jc-notion activate` first (import uses the credentials it verifies)',
        };
      }
      if (deps.config.usernameSource === 'username') {
        return {
          refused:
            'import needs USERNAME_SOURCE=email: with USERNAME_SOURCE=username the Notion userName comes from the JumpCloud username, which cannot be an email address, so imported users could never be matched to their Notion accounts',
        };
      }
      const appId = deps.config.jumpcloud.appId;
      return withPacedClients(deps, (clients) =>
        mapFailures(async (): Promise<ImportPreparation> => {
          const { jumpcloud, notion } = clients;
          let group: { id: string; name: string } | undefined;
          if (input.groupId) {
            reportProgress({ phase: 'checking the group' });
            const found = await jumpcloud.getGroup(input.groupId);
            if (!found) return { refused: `no JumpCloud user group has the id ${input.groupId}` };
            const bound = await jumpcloud.listApplicationGroups(appId);
            if (!bound.some((g) => g.id === found.id)) {
              const names: string[] = [];
              for (const other of bound.slice(0, 5)) {
                const g = await jumpcloud.getGroup(other.id);
                if (g) names.push(`"${g.name}" (${g.id})`);
              }
              const choice =
                names.length > 0
                  ? `; groups bound to it: ${names.join(', ')}${bound.length > names.length ? ', …' : ''}`
                  : '; no group is bound to it yet';
              return {
                refused: `group "${found.name}" (${found.id}) is not bound to the Notion application (${appId}): its members would not be provisioned to Notion, so nothing was imported. Bind the group to the application in JumpCloud, or choose a bound group${choice}`,
              };
            }
            group = { id: found.id, name: found.name };
          }

          reportProgress({ phase: 'reading Notion and JumpCloud' });
          const emails = input.emails ?? [];
          // A few emails are looked up one by one; more (or all New) read the whole workspace.
          const lookUp = !input.allNew && emails.length <= LOOKUP_LIMIT;
          const [{ members, complete }, byEmail] = await Promise.all([
            lookUp ? lookUpMembers(notion, emails) : notionMembers(notion),
            usersByEmail(jumpcloud),
          ]);
          const byUserName = new Map(members.map((m) => [m.userName, m]));
          const bySecondaryEmail = new Map<string, NotionUser>();
          for (const member of members)
            for (const email of member.emails) {
              const key = email.trim().toLowerCase();
              if (!bySecondaryEmail.has(key)) bySecondaryEmail.set(key, member);
            }

          const failures: ImportResult[] = [];
          const selected: NotionUser[] = [];
          if (input.allNew) {
            selected.push(...members.filter((member) => !byEmail.has(member.userName)));
          } else {
            const seen = new Set<string>();
            for (const email of emails) {
              let member = byUserName.get(email) ?? bySecondaryEmail.get(email);
              // An unreliable listing proves no absence: ask Notion about this email.
              if (!member && !complete) {
                const found = await notion.findUserByEmail(email);
                if (found?.active) member = found;
              }
              if (!member) {
                failures.push({
                  email,
                  outcome: 'failed',
                  error: 'not an active member of the Notion workspace',
                });
              } else if (!seen.has(member.userName)) {
                seen.add(member.userName);
                selected.push(member);
              }
            }
          }
          selected.sort((a, b) => (a.userName < b.userName ? -1 : a.userName > b.userName ? 1 : 0));

          // I3: whether users JumpCloud already has are in scope (bound directly or through a group).
          let bound: Set<string> | undefined;
          if (selected.some((member) => byEmail.has(member.userName))) {
            reportProgress({ phase: 'reading the application users' });
            bound = new Set((await jumpcloud.listApplicationUsers(appId)).map((u) => u.id));
          }
          const users = selected.map((member) => candidateOf(member, byEmail.get(member.userName), bound));
          const total = users.length + failures.length;
          if (total < BACKGROUND_THRESHOLD)
            return { total, background: false, group, failures, users, batches: 0 };

          // Background: the batch workflows hold the users; they report to the import workflow.
          let batches = 0;
          for (let offset = 0; offset < users.length; offset += IMPORT_BATCH_SIZE) {
            const batch = batches++;
            reportProgress({ phase: 'starting batches', batch });
            try {
              await deps.temporal.workflow.start('importBatchWorkflow', {
                workflowId: workflowIds.import(input.connectorId, `${input.importId}/batch-${batch}`),
                taskQueue: deps.config.temporal.taskQueue,
                // A retried preparation must not run a batch twice.
                workflowIdReusePolicy: 'REJECT_DUPLICATE',
                staticSummary: STARTS.import.batch(input.importId, batch),
                args: [
                  {
                    connectorId: input.connectorId,
                    importId: input.importId,
                    parentWorkflowId: activityInfo().workflowExecution!.workflowId,
                    batch,
                    groupId: group?.id,
                    users: users.slice(offset, offset + IMPORT_BATCH_SIZE),
                  } satisfies ImportBatchInput,
                ],
              });
            } catch (error) {
              if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
            }
          }
          return { total, background: true, group, failures, users: [], batches };
        }),
      );
    },
  };
}

export type ImportActivities = ReturnType<typeof createImportActivities>;
