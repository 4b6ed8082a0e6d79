/** The product's task queues (temporal/task-queues.ts), pure. */
import { taskQueues } from '../temporal/task-queues';

test('issue 15: the connector has a queue of its own, and workflows on it derive the same queues', () => {
  const queues = taskQueues('sync');
  expect(queues).toEqual({
    main: 'sync',
    control: 'sync-control',
    notion: 'sync-notion',
    jumpcloud: 'sync-jumpcloud',
  });
  expect(taskQueues(queues.control)).toEqual(queues);
});
