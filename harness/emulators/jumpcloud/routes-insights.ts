/** Directory Insights at `/insights/directory/v1`: `POST /events` and `POST /events/count`. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, describeZodError } from './errors';
import { eventQuerySchema, type EventQuery } from './journal';
import type { JumpCloudDirectory } from './store';

export const INSIGHTS_PREFIX = '/insights/directory/v1';

function parseQuery(request: FastifyRequest): EventQuery {
  const parsed = eventQuerySchema.safeParse(request.body ?? {});
  if (!parsed.success) throw badRequest(describeZodError(parsed.error));
  return parsed.data;
}

export function registerInsightsRoutes(app: FastifyInstance, directory: JumpCloudDirectory): void {
  app.post(`${INSIGHTS_PREFIX}/events`, (request, reply) => {
    const page = directory.journal.query(parseQuery(request));
    void reply.headers({
      'X-Result-Count': String(page.events.length),
      'X-Limit': String(page.limit),
      'X-Sort': page.sort,
      // Always present, even after the last page (PS-DI); clients compare count and limit.
      'X-Search_after': JSON.stringify(page.searchAfter),
      'X-Request-Id': randomUUID(),
    });
    return page.events;
  });

  app.post(`${INSIGHTS_PREFIX}/events/count`, (request) => ({
    count: directory.journal.count(parseQuery(request)),
  }));
}
