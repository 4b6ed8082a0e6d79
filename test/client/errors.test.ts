/** What a failed command prints: one line that says why, whatever Temporal wrapped it in. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CliError, oneLine } from '../../client/errors';

test('a failed Update prints its root cause, not only "Workflow Update failed"', () => {
  const cause = ApplicationFailure.nonRetryable(
    '40 deactivation(s) are held now, not the 39 expected',
    'HeldSetChanged',
  );
  const error = new WorkflowUpdateFailedError(
    'Workflow Update failed',
    new Error('Activity task failed', { cause }),
  );
  expect(oneLine(error)).toBe('Workflow Update failed: 40 deactivation(s) are held now, not the 39 expected');
});

test('a plain error prints its first line; a cause that repeats it is not printed twice', () => {
  expect(oneLine(new CliError('the connector is not activated\nmore detail'))).toBe(
    'the connector is not activated',
  );
  expect(oneLine(new Error('same', { cause: new Error('same') }))).toBe('same');
  expect(oneLine('text')).toBe('text');
});

test('an error whose causes loop back prints its innermost message instead of spinning', () => {
  const outer = new Error('Workflow Update failed');
  outer.cause = new Error('connection reset', { cause: outer });
  expect(oneLine(outer)).toBe('Workflow Update failed: connection reset');
});
