/**
 * The Notion emulator's own `/_emulator/` routes (SPEC §8), besides the shared control plane:
 * reset, seed, state, config, and the per-group "sole full-access holder" flag.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { configPatchSchema, seedSchema, type NotionStore } from './store';

const soleOwnerSchema = z.strictObject({ soleOwner: z.boolean() });

function badRequest(reply: FastifyReply, error: unknown) {
  const issues =
    error instanceof z.ZodError
      ? error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      : [error instanceof Error ? error.message : String(error)];
  return reply.code(400).send({ error: 'invalid control request', issues });
}

export function registerControlRoutes(app: FastifyInstance, store: NotionStore): void {
  app.post('/_emulator/reset', (_request, reply) => {
    store.reset();
    return reply.code(204).send();
  });

  /** Answers the ids given: `{"users": {userName: id}, "groups": {displayName: id}}`. */
  app.post('/_emulator/seed', (request, reply) => {
    const parsed = seedSchema.safeParse(request.body ?? {});
    if (!parsed.success) return badRequest(reply, parsed.error);
    try {
      return reply.send(store.seed(parsed.data));
    } catch (error) {
      return badRequest(reply, error);
    }
  });

  app.get('/_emulator/state', () => store.state());

  app.get('/_emulator/config', () => store.config);
  app.put('/_emulator/config', (request, reply) => {
    const parsed = configPatchSchema.safeParse(request.body ?? {});
    if (!parsed.success) return badRequest(reply, parsed.error);
    return reply.send(store.configure(parsed.data));
  });

  app.put<{ Params: { id: string } }>('/_emulator/groups/:id/sole-owner', (request, reply) => {
    const parsed = soleOwnerSchema.safeParse(request.body ?? {});
    if (!parsed.success) return badRequest(reply, parsed.error);
    const group = store.setSoleOwner(request.params.id, parsed.data.soleOwner);
    if (!group) return reply.code(404).send({ error: `no group ${request.params.id}` });
    return reply.send({ id: group.id, displayName: group.displayName, soleOwner: group.soleOwner });
  });
}
