/**
 * Issue 18 (ADR 0017): the modules the workflow bundle evaluates once per workflow build no zod
 * schema when they load; each top-level schema is a `z.lazy`, built on its first parse.
 */
import { z } from 'zod';
import * as feed from '../../contracts/feed';
import * as group from '../../contracts/group';
import * as importContract from '../../contracts/import';
import * as pacer from '../../contracts/pacer';
import * as shared from '../../contracts/shared';
import * as user from '../../contracts/user';
import * as connector from '../../workflows/connector';

const modules = { feed, group, import: importContract, pacer, shared, user, connector };

test('issue 18: every zod schema the workflow modules export is lazy (nothing is built when a workflow loads them)', () => {
  const eager: string[] = [];
  let lazy = 0;
  for (const [name, module] of Object.entries(modules))
    for (const [key, value] of Object.entries(module)) {
      if (!(value instanceof z.ZodType)) continue;
      if (value instanceof z.ZodLazy) lazy += 1;
      else eager.push(`${name}.${key}`);
    }
  expect(eager).toEqual([]);
  expect(lazy).toBeGreaterThan(20);
});

test('issue 18: a lazy contract parses and refuses as before', () => {
  expect(shared.problemSchema.parse({ code: 'X', message: 'm', at: 'now' })).toEqual({
    code: 'X',
    message: 'm',
    at: 'now',
  });
  const bad = user.userWorkflowInputSchema.safeParse({ connectorId: 'c', jumpcloudUserId: 'nope' });
  expect(bad.success).toBe(false);
});
