/**
 * The test-only control plane every emulator shares, under `/_emulator/` (SPEC §8):
 *
 * - `GET /_emulator/requests` → `{"total", "byRoute": {"PATCH /scim/v2/Users/{id}": n}, "byStatus"}`,
 *   `DELETE /_emulator/requests` clears it; `GET /_emulator/requests/timeline` lists every
 *   request's time, route and status (for rate measurements). `/_emulator/` calls are not counted.
 * - `PUT /_emulator/faults` `{latencyMs?, rules: [FaultRule]}` / `GET` / `DELETE`: runtime fault injection
 *   (an error status, a reset connection, latency, or a list page cut short).
 * - `PUT /_emulator/rate-limit` `{rps, burst?}` / `DELETE`: answers 429 with `Retry-After`
 *   like the real service once more than `rps` requests arrive per second.
 *
 * Each emulator supplies how its errors look (SCIM error schema, JumpCloud's JSON) and its own
 * reset/seed/state routes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

/** One fault: which requests it hits and what happens to them. */
export const faultRuleSchema = z.object({
  /** `METHOD /route/{id}` template, a method alone (`PATCH`), or absent for every API route. */
  route: z.string().optional(),
  /** Only requests whose query has each of these parameters with this value (`{"startIndex": "301"}`: one page). */
  query: z.record(z.string(), z.string()).optional(),
  /** Share of matching requests hit (0–1; default 1). */
  rate: z.number().min(0).max(1).default(1),
  /** Only the next `count` matching requests (default: until cleared). */
  count: z.number().int().positive().optional(),
  /** What to do: answer with `status`, or reset the connection. */
  action: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('status'),
      status: z.number().int().min(400).max(599),
      retryAfter: z.number().min(0).optional(),
      detail: z.string().optional(),
    }),
    z.object({ type: z.literal('reset') }),
    /**
     * The request is carried out, then the connection is cut before the answer leaves: an answer
     * lost on the way back, or a client that died before reading it. The log shows its real status.
     */
    z.object({ type: z.literal('lose-response') }),
    z.object({ type: z.literal('latency'), ms: z.number().int().min(0).max(120_000) }),
    /**
     * A list served short (a proxy's or an outage's cut): the first `keep` entries of the page
     * (default none), and without its total (`x-total-count`, `totalCount`, `totalResults`)
     * when `dropTotal`.
     */
    z.object({
      type: z.literal('truncate'),
      keep: z.number().int().min(0).default(0),
      dropTotal: z.boolean().default(false),
    }),
  ]),
});
export type FaultRule = z.infer<typeof faultRuleSchema>;

const faultsSchema = z.object({
  /** Added to every API request. */
  latencyMs: z.number().int().min(0).max(120_000).default(0),
  rules: z.array(faultRuleSchema).default([]),
});

const rateLimitSchema = z.object({
  /** Requests per second served before 429s. */
  rps: z.number().positive(),
  /** Bucket size (default: rps, at least 1). */
  burst: z.number().positive().optional(),
});

export interface ErrorBody {
  /** Builds the service's error body for a status. */
  (status: number, detail: string): unknown;
}

export interface ControlPlaneOptions {
  /** How this service shapes an error response. */
  errorBody: ErrorBody;
  /** Content type of error bodies (e.g. `application/scim+json`). */
  errorContentType?: string;
}

export interface RequestRecord {
  at: number;
  route: string;
  status: number;
  /** The query string, when there was one (`startIndex=101&count=100`): which page was read. */
  query?: string;
}

export interface ControlPlane {
  /** Requests served since the last clear. */
  requests(): { total: number; byRoute: Record<string, number>; byStatus: Record<string, number> };
  clearRequests(): void;
  setFaults(faults: z.input<typeof faultsSchema>): void;
  setRateLimit(limit: z.input<typeof rateLimitSchema> | null): void;
}

/** `GET /scim/v2/Users/:id` → `GET /scim/v2/Users/{id}` (the form of SPEC §8). */
export function routeKey(request: FastifyRequest): string {
  const template = (request.routeOptions.url ?? request.url.split('?')[0] ?? '').replace(
    /:([A-Za-z0-9_]+)/g,
    '{$1}',
  );
  return `${request.method} ${template}`;
}

function queryOf(request: FastifyRequest): string {
  const at = request.url.indexOf('?');
  return at < 0 ? '' : request.url.slice(at + 1);
}

function record(request: FastifyRequest, route: string, status: number): RequestRecord {
  const query = queryOf(request);
  return query ? { at: Date.now(), route, status, query } : { at: Date.now(), route, status };
}

const isControl = (request: FastifyRequest) => request.url.startsWith('/_emulator');

type Truncate = Extract<FaultRule['action'], { type: 'truncate' }>;

/** A JSON list response cut short: a bare array, `{results, totalCount}` or a SCIM ListResponse. */
export function truncateList(payload: string, cut: Truncate): string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (Array.isArray(body)) return JSON.stringify(body.slice(0, cut.keep));
  if (body && typeof body === 'object') {
    const list = { ...(body as Record<string, unknown>) };
    for (const key of ['results', 'Resources'])
      if (Array.isArray(list[key])) list[key] = (list[key] as unknown[]).slice(0, cut.keep);
    if (cut.dropTotal) {
      delete list.totalCount;
      delete list.totalResults;
    }
    return JSON.stringify(list);
  }
  return payload;
}

export function installControlPlane(app: FastifyInstance, options: ControlPlaneOptions): ControlPlane {
  let log: RequestRecord[] = [];
  const truncated = new WeakMap<FastifyRequest, Truncate>();
  const answersToLose = new WeakSet<FastifyRequest>();
  let faults = faultsSchema.parse({});
  const remaining = new Map<FaultRule, number>();
  let bucket: { rps: number; burst: number; tokens: number; at: number } | null = null;

  const sendError = (reply: FastifyReply, status: number, detail: string, retryAfter?: number) => {
    if (retryAfter !== undefined) void reply.header('retry-after', String(Math.ceil(retryAfter)));
    return reply
      .code(status)
      .type(options.errorContentType ?? 'application/json')
      .send(options.errorBody(status, detail));
  };

  const matches = (rule: FaultRule, key: string, request: FastifyRequest) => {
    if (rule.query) {
      const query = new URLSearchParams(queryOf(request));
      for (const [name, value] of Object.entries(rule.query)) if (query.get(name) !== value) return false;
    }
    if (!rule.route) return true;
    const [method, ...rest] = rule.route.trim().split(/\s+/);
    if (rest.length === 0) return key.startsWith(`${method!.toUpperCase()} `);
    return key === `${method!.toUpperCase()} ${rest.join(' ')}`;
  };

  app.addHook('onRequest', async (request, reply) => {
    if (isControl(request)) return;
    const key = routeKey(request);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);

    if (bucket) {
      const now = Date.now();
      bucket.tokens = Math.min(bucket.burst, bucket.tokens + ((now - bucket.at) / 1000) * bucket.rps);
      bucket.at = now;
      if (bucket.tokens < 1) {
        const wait = (1 - bucket.tokens) / bucket.rps;
        return sendError(reply, 429, 'rate limit exceeded: too many requests', Math.max(1, Math.ceil(wait)));
      }
      bucket.tokens -= 1;
    }

    for (const rule of faults.rules) {
      if (!matches(rule, key, request)) continue;
      if (rule.count !== undefined && (remaining.get(rule) ?? 0) <= 0) continue;
      if (rule.rate < 1 && Math.random() >= rule.rate) continue;
      if (rule.count !== undefined) remaining.set(rule, (remaining.get(rule) ?? 0) - 1);
      const action = rule.action;
      if (action.type === 'latency') {
        await sleep(action.ms);
        continue;
      }
      if (action.type === 'truncate') {
        truncated.set(request, action);
        continue;
      }
      if (action.type === 'lose-response') {
        answersToLose.add(request);
        continue;
      }
      if (action.type === 'reset') {
        log.push(record(request, key, 0));
        request.raw.socket.destroy();
        return reply.hijack();
      }
      return sendError(
        reply,
        action.status,
        action.detail ?? `injected fault: ${action.status}`,
        action.retryAfter,
      );
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (answersToLose.has(request)) {
      log.push(record(request, routeKey(request), reply.statusCode));
      request.raw.socket.destroy();
      return payload;
    }
    const cut = truncated.get(request);
    if (!cut || typeof payload !== 'string' || reply.statusCode >= 300) return payload;
    if (cut.dropTotal) reply.removeHeader('x-total-count');
    return truncateList(payload, cut);
  });

  app.addHook('onResponse', async (request, reply) => {
    if (isControl(request) || answersToLose.has(request)) return;
    log.push(record(request, routeKey(request), reply.statusCode));
  });

  const plane: ControlPlane = {
    requests() {
      const byRoute: Record<string, number> = {};
      const byStatus: Record<string, number> = {};
      for (const entry of log) {
        byRoute[entry.route] = (byRoute[entry.route] ?? 0) + 1;
        const status = entry.status === 0 ? 'reset' : String(entry.status);
        byStatus[status] = (byStatus[status] ?? 0) + 1;
      }
      return { total: log.length, byRoute, byStatus };
    },
    clearRequests() {
      log = [];
    },
    setFaults(input) {
      faults = faultsSchema.parse(input);
      remaining.clear();
      for (const rule of faults.rules) if (rule.count !== undefined) remaining.set(rule, rule.count);
    },
    setRateLimit(input) {
      if (!input) {
        bucket = null;
        return;
      }
      const { rps, burst } = rateLimitSchema.parse(input);
      const size = burst ?? Math.max(1, rps);
      bucket = { rps, burst: size, tokens: size, at: Date.now() };
    },
  };

  const badRequest = (reply: FastifyReply, error: z.ZodError) =>
    reply.code(400).send({
      error: 'invalid control request',
      issues: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    });

  app.get('/_emulator/requests', () => plane.requests());
  app.get('/_emulator/requests/timeline', () => ({ requests: log }));
  app.delete('/_emulator/requests', (_request, reply) => {
    plane.clearRequests();
    return reply.code(204).send();
  });
  app.get('/_emulator/faults', () => ({
    ...faults,
    rules: faults.rules.map((rule) => ({ ...rule, remaining: remaining.get(rule) })),
  }));
  app.put('/_emulator/faults', (request, reply) => {
    const parsed = faultsSchema.safeParse(request.body ?? {});
    if (!parsed.success) return badRequest(reply, parsed.error);
    plane.setFaults(parsed.data);
    return reply.code(204).send();
  });
  app.delete('/_emulator/faults', (_request, reply) => {
    plane.setFaults({});
    return reply.code(204).send();
  });
  app.get('/_emulator/rate-limit', () => (bucket ? { rps: bucket.rps, burst: bucket.burst } : { rps: null }));
  app.put('/_emulator/rate-limit', (request, reply) => {
    const parsed = rateLimitSchema.safeParse(request.body ?? {});
    if (!parsed.success) return badRequest(reply, parsed.error);
    plane.setRateLimit(parsed.data);
    return reply.code(204).send();
  });
  app.delete('/_emulator/rate-limit', (_request, reply) => {
    plane.setRateLimit(null);
    return reply.code(204).send();
  });

  return plane;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
