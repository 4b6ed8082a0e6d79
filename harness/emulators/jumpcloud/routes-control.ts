/**
 * The JumpCloud emulator's own test controls under `/_emulator/` (the shared ones — requests,
 * faults, rate limit — come from `installControlPlane`):
 *
 * - `POST /_emulator/reset` → 204: empty directory and journal; the API key and `Notion` stay.
 * - `POST /_emulator/seed` `{"name": "demo"}` or an explicit seed → 200 with the new totals.
 *   Seeds add to what is there and generate no events.
 * - `GET /_emulator/state`: the whole directory.
 * - `PUT /_emulator/insights` `{"delayMs": n}` → 204: new events are hidden from queries until
 *   n ms after their timestamp; `GET` returns the delay and the journal size.
 * - `GET /_emulator/events`: the whole journal, delayed events included.
 * - `PUT /_emulator/raw/users/:id` `{field: value, …}` → 204: served merged into that user's
 *   record by v1 `/systemusers` and `/systemusers/{id}` (a malformed record, e.g.
 *   `{"state": "ARCHIVED_SOMEHOW"}`), replacing what was set before; `{}` or
 *   `DELETE /_emulator/raw/users/:id` → 204 clears them; `GET` returns them. 404 for an unknown
 *   user. The model, its events and snapshots are unchanged.
 * - `POST /_emulator/raw/events` `{…}` → 201 `{at}`: the object is appended verbatim to the
 *   Directory Insights journal (it may lack `timestamp`, `id`…) at the time it is appended (`at`,
 *   ISO), so queries from an earlier start time return it in order. Not part of snapshots.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createDemoOrganization } from '../seed/demo';
import { describeZodError, JumpCloudError, jumpCloudErrorBody } from './errors';
import { seedRequestSchema, type JumpCloudSeed } from './seed';
import type { JumpCloudDirectory } from './store';

const insightsSchema = z.object({ delayMs: z.number().int().min(0).max(86_400_000) }).strict();
/** A JSON object (raw fields or a raw event): anything inside goes. */
const rawObjectSchema = z.record(z.string(), z.unknown());

type RawUserRequest = FastifyRequest<{ Params: { id: string }; Body: unknown }>;

/** The seed a `POST /_emulator/seed` body names or carries. */
export function resolveSeed(body: z.output<typeof seedRequestSchema>): JumpCloudSeed {
  return 'name' in body ? createDemoOrganization().jumpcloud : body;
}

export function registerControlRoutes(app: FastifyInstance, directory: JumpCloudDirectory): void {
  app.post('/_emulator/reset', (_request, reply) => {
    directory.reset();
    return reply.code(204).send();
  });

  // Large organisations (benchmarks) are seeded in one request.
  app.post('/_emulator/seed', { bodyLimit: 256 * 1024 * 1024 }, (request, reply) => {
    const parsed = seedRequestSchema.safeParse(request.body ?? {});
    if (!parsed.success)
      return reply.code(400).send(jumpCloudErrorBody(400, `invalid seed: ${describeZodError(parsed.error)}`));
    try {
      directory.seed(resolveSeed(parsed.data));
    } catch (error) {
      if (error instanceof JumpCloudError)
        return reply.code(400).send(jumpCloudErrorBody(400, error.message));
      throw error;
    }
    const state = directory.state();
    return {
      users: state.users.length,
      groups: state.groups.length,
      applications: state.applications.length,
    };
  });

  app.get('/_emulator/state', () => directory.state());

  app.get('/_emulator/insights', () => ({
    delayMs: directory.journal.delayMs,
    events: directory.journal.size,
  }));

  app.put('/_emulator/insights', (request, reply) => {
    const parsed = insightsSchema.safeParse(request.body ?? {});
    if (!parsed.success) return reply.code(400).send(jumpCloudErrorBody(400, describeZodError(parsed.error)));
    directory.journal.setDelay(parsed.data.delayMs);
    return reply.code(204).send();
  });

  app.get('/_emulator/events', () => directory.events());

  app.get('/_emulator/raw/users/:id', (request: RawUserRequest) => {
    directory.getUser(request.params.id);
    return directory.rawFieldsOf(request.params.id);
  });

  app.put('/_emulator/raw/users/:id', (request: RawUserRequest, reply) => {
    const parsed = rawObjectSchema.safeParse(request.body ?? {});
    if (!parsed.success)
      return reply.code(400).send(jumpCloudErrorBody(400, 'the raw fields must be a JSON object'));
    directory.setRawUserFields(request.params.id, parsed.data);
    return reply.code(204).send();
  });

  app.delete('/_emulator/raw/users/:id', (request: RawUserRequest, reply) => {
    directory.setRawUserFields(request.params.id, {});
    return reply.code(204).send();
  });

  app.post('/_emulator/raw/events', (request, reply) => {
    const parsed = rawObjectSchema.safeParse(request.body);
    if (!parsed.success)
      return reply.code(400).send(jumpCloudErrorBody(400, 'the raw event must be a JSON object'));
    const at = directory.appendRawEvent(parsed.data);
    return reply.code(201).send({ at: new Date(at).toISOString() });
  });
}
