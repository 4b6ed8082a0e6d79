/**
 * The work of an import on one user (I2/I3), shared by the import workflow and its batch
 * workflows: look the email up, create with the first free username, join the group, hand the
 * users the sync manages over to their user workflows. Deterministic: workflow code.
 */
import { ApplicationFailure, log, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ImportCandidate, ImportCounts, ImportResult } from '../contracts/import';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { apiActivities, failureMessage } from './entity';
import { usernameFor } from './import-plan';
import { STEPS } from './summaries';

/** Users imported at once by one workflow: a few, so that results come steadily. */
export const CONCURRENCY = 4;
/** Usernames tried for one user before giving up. */
export const MAX_USERNAME_ATTEMPTS = 50;
/** Failures a background import keeps for its mail (the rest are counted). */
export const MAX_KEPT_FAILURES = 500;

const { importHandOver } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 5 },
});

export function tagImport(connectorId: string): void {
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.connectorId, value: connectorId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'import' },
  ]);
}

export function zeroCounts(): ImportCounts {
  return { created: 0, existing: 0, failed: 0, unmanaged: 0 };
}

export function count(counts: ImportCounts, result: ImportResult): void {
  if (result.outcome === 'failed') counts.failed += 1;
  else {
    counts[result.outcome] += 1;
    if (result.managed === false) counts.unmanaged += 1;
  }
}

/** A failed result, or one whose requested group membership failed. */
export function isFailure(result: ImportResult): boolean {
  return result.outcome === 'failed' || result.group === 'failed';
}

/** Runs `fn` over `items`, `limit` at a time (deterministic: workflow code). */
export async function forEachConcurrently<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * I2/I3 for one user: look the email up (idempotence), create with the first free username, join
 * the group. Failures are this user's only; nobody else is held up.
 */
export async function importUser(
  candidate: ImportCandidate,
  groupId: string | undefined,
): Promise<ImportResult> {
  const { jumpcloud } = apiActivities();
  let result: ImportResult;
  try {
    result = candidate.existing
      ? {
          email: candidate.email,
          outcome: 'existing',
          username: candidate.existing.username,
          jumpcloudId: candidate.existing.id,
          state: candidate.existing.state,
          managed: candidate.existing.managed,
        }
      : await findOrCreate(candidate);
  } catch (error) {
    return { email: candidate.email, outcome: 'failed', error: failureMessage(error) };
  }
  if (groupId && result.jumpcloudId) {
    try {
      await jumpcloud.jumpcloudAddUserToGroup.executeWithOptions(
        { summary: STEPS.import.addToGroup(result.jumpcloudId, groupId) },
        [groupId, result.jumpcloudId],
      );
      result.group = 'added';
      result.managed = result.state === 'ACTIVATED';
    } catch (error) {
      result.group = 'failed';
      result.error = `not added to the group: ${failureMessage(error)}`;
    }
  }
  return result;
}

async function findOrCreate(candidate: ImportCandidate): Promise<ImportResult> {
  const { jumpcloud } = apiActivities();
  const { email } = candidate;
  const found = await jumpcloud.jumpcloudFindUserByEmail.executeWithOptions(
    { summary: STEPS.import.findByEmail() },
    [email],
  );
  if (found) {
    return {
      email,
      outcome: 'existing',
      username: found.username,
      jumpcloudId: found.id,
      state: found.state,
    };
  }
  const tried = new Set<string>();
  for (let n = 0; n < MAX_USERNAME_ATTEMPTS; n++) {
    const username = usernameFor(email, n);
    tried.add(username);
    const outcome = await jumpcloud.jumpcloudCreateUser.executeWithOptions(
      { summary: STEPS.import.createUser(n + 1) },
      [
        {
          username,
          email,
          ...(candidate.firstname ? { firstname: candidate.firstname } : {}),
          ...(candidate.lastname ? { lastname: candidate.lastname } : {}),
        },
      ],
    );
    if (outcome.status === 'username-taken') continue;
    const { user } = outcome;
    return {
      email,
      // `exists` with one of our usernames: an earlier attempt of this very create succeeded.
      outcome: outcome.status === 'created' || tried.has(user.username) ? 'created' : 'existing',
      username: user.username,
      jumpcloudId: user.id,
      state: user.state,
      // Just created, in no group: not managed until it joins a bound group (I3).
      managed: outcome.status === 'created' || tried.has(user.username) ? false : undefined,
    };
  }
  throw ApplicationFailure.nonRetryable(
    `no free JumpCloud username: ${usernameFor(email, 0)} to ${usernameFor(email, MAX_USERNAME_ATTEMPTS - 1)} are all taken`,
    'NoFreeUsername',
  );
}

/**
 * I3: the users now in a bound group and ACTIVATED go to their user workflows at once, which link
 * them to their Notion user. Best effort: the change feed and the reconciliation get there too.
 */
export async function handOver(connectorId: string, results: ImportResult[]): Promise<void> {
  const ids = results
    .filter((r) => r.group === 'added' && r.managed && r.jumpcloudId)
    .map((r) => r.jumpcloudId!);
  if (ids.length === 0) return;
  try {
    await importHandOver.executeWithOptions({ summary: STEPS.import.handOver(ids.length) }, [
      { connectorId, jumpcloudUserIds: ids },
    ]);
  } catch (error) {
    log.warn('imported users not handed over to their user workflows', { error: failureMessage(error) });
  }
}
