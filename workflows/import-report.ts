/**
 * What an import tells the admin when it ends: the I3 warning about imported users the sync does
 * not manage, and the completion mail of a background import. Deterministic: workflow code.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ImportProgress } from '../contracts/import';
import { failureMessage } from './entity';
import { isFailure } from './import-user';

const { sendNotification } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 5 },
});

/** I3: what the command says about imported users the sync does not manage. */
export function unmanagedWarning(
  unmanaged: number,
  group?: { id: string; name: string },
): string | undefined {
  if (unmanaged === 0) return undefined;
  const advice = group
    ? 'check their state in JumpCloud (a STAGED user is provisioned once activated)'
    : 'add them to a group bound to the application, e.g. run the import again with `--group <group id>`';
  return `${unmanaged} imported user(s) are not managed by the sync: a user is provisioned to Notion only once it is ACTIVATED in JumpCloud and a member of a group bound to the Notion application (I3); ${advice}`;
}

export /** The completion mail of a background import: counts, the warning, the failures. */
async function mailCompletion(state: ImportProgress): Promise<string> {
  const { counts } = state;
  const failures = state.results.filter(isFailure);
  const rows: [string, string][] = [
    ['Users selected', String(state.total)],
    ['Created in JumpCloud', String(counts.created)],
    ['Already imported', String(counts.existing)],
    ['Failed', String(counts.failed)],
    ...(state.group ? [['Group', `${state.group.name} (${state.group.id})`] as [string, string]] : []),
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  const lines = [
    `Import ${state.importId} (workflow ${workflowInfo().workflowId}) has finished.`,
    '',
    ...rows.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`),
    ...(state.warning ? ['', `Warning: ${state.warning}`] : []),
    ...(failures.length > 0 || state.failuresNotListed > 0
      ? [
          '',
          'Failures:',
          ...failures.map((f) => `  ${f.email}: ${f.error ?? 'failed'}`),
          ...(state.failuresNotListed > 0
            ? [`  … and ${state.failuresNotListed} more (see the batch workflows in the Temporal UI)`]
            : []),
        ]
      : []),
  ];
  try {
    const outcome = await sendNotification({
      subject: `import ${state.importId} finished: ${counts.created} created, ${counts.existing} already imported, ${counts.failed} failed`,
      text: `${lines.join('\n')}\n`,
    });
    return outcome.sent ? `sent to ${outcome.to.join(', ')}` : `not sent: ${outcome.reason}`;
  } catch (error) {
    return `could not be sent: ${failureMessage(error)}`;
  }
}
