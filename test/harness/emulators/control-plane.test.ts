/**
 * The control plane every emulator shares (SPEC §8): the request log, fault injection and the
 * rate limit, over real HTTP on a bare fastify app with a service-shaped error body.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { request, type Dispatcher } from 'undici';
import { installControlPlane, type ControlPlane } from '../../../harness/emulators/common/control';
import { close, listen } from '../../../harness/emulators/common/server';

interface Reply<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}
interface RequestCounts {
  total: number;
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
}

let app: FastifyInstance;
let plane: ControlPlane;
let origin: string;

beforeAll(async () => {
  app = Fastify({ logger: false });
  plane = installControlPlane(app, {
    errorBody: (status, detail) => ({ code: status, message: detail }),
    errorContentType: 'application/vnd.test+json',
  });
  app.get('/api/things', () => ({ things: [] }));
  app.get<{ Params: { id: string } }>('/api/things/:id', (req) => ({ id: req.params.id }));
  app.post('/api/things', (_req, reply) => reply.code(201).send({ created: true }));
  app.patch<{ Params: { id: string } }>('/api/things/:id', (req) => ({ id: req.params.id }));
  origin = await listen(app);
});
afterAll(() => close(app));
beforeEach(async () => {
  await call('DELETE', '/_emulator/faults');
  await call('DELETE', '/_emulator/rate-limit');
  await call('DELETE', '/_emulator/requests');
});

async function call<T = unknown>(
  method: Dispatcher.HttpMethod,
  path: string,
  body?: unknown,
): Promise<Reply<T>> {
  const response = await request(`${origin}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

const counts = async () => (await call<RequestCounts>('GET', '/_emulator/requests')).body;

describe('request log', () => {
  test('SPEC §8: GET /_emulator/requests counts API requests by method and route template ({id}), not /_emulator/ calls', async () => {
    await call('GET', '/api/things');
    await call('GET', '/api/things/1');
    await call('GET', '/api/things/2?x=1');
    await call('PATCH', '/api/things/2', { a: 1 });
    await call('POST', '/api/things', {});
    await call('GET', '/api/unknown/route');
    await call('GET', '/_emulator/faults');
    const reply = await call<RequestCounts>('GET', '/_emulator/requests');
    expect(reply.status).toBe(200);
    expect(reply.body.total).toBe(6);
    expect(reply.body.byRoute).toEqual({
      'GET /api/things': 1,
      'GET /api/things/{id}': 2,
      'PATCH /api/things/{id}': 1,
      'POST /api/things': 1,
      'GET /api/unknown/route': 1,
    });
    expect(reply.body.byStatus).toEqual({ '200': 4, '201': 1, '404': 1 });
    expect(plane.requests().total).toBe(6);
  });

  test('SPEC §8: DELETE /_emulator/requests clears the log', async () => {
    await call('GET', '/api/things');
    expect((await counts()).total).toBe(1);
    expect((await call('DELETE', '/_emulator/requests')).status).toBe(204);
    expect(await counts()).toEqual({ total: 0, byRoute: {}, byStatus: {} });
  });

  test('the timeline lists each request with its time, route and status', async () => {
    const before = Date.now();
    await call('GET', '/api/things/7');
    const reply = await call<{ requests: { at: number; route: string; status: number }[] }>(
      'GET',
      '/_emulator/requests/timeline',
    );
    expect(reply.body.requests).toHaveLength(1);
    expect(reply.body.requests[0]).toMatchObject({ route: 'GET /api/things/{id}', status: 200 });
    expect(reply.body.requests[0]!.at).toBeGreaterThanOrEqual(before);
  });
});

describe('fault injection', () => {
  test('a status fault answers the status with Retry-After and the service error body', async () => {
    const put = await call('PUT', '/_emulator/faults', {
      rules: [
        {
          route: 'GET /api/things/{id}',
          action: { type: 'status', status: 503, retryAfter: 1.2, detail: 'down' },
        },
      ],
    });
    expect(put.status).toBe(204);
    const reply = await call('GET', '/api/things/1');
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('2');
    expect(reply.headers['content-type']).toContain('application/vnd.test+json');
    expect(reply.body).toEqual({ code: 503, message: 'down' });
    // Other routes are not hit.
    expect((await call('GET', '/api/things')).status).toBe(200);
    expect((await counts()).byStatus).toEqual({ '503': 1, '200': 1 });
  });

  test('a rule with a query hits only the requests with those parameters (one page of a listing); the timeline shows each query', async () => {
    await call('PUT', '/_emulator/faults', {
      rules: [{ route: 'GET /api/things', query: { skip: '100' }, action: { type: 'status', status: 500 } }],
    });
    expect((await call('GET', '/api/things?limit=100&skip=0')).status).toBe(200);
    expect((await call('GET', '/api/things?limit=100&skip=100')).status).toBe(500);
    expect((await call('GET', '/api/things?skip=1000')).status).toBe(200);
    const reply = await call<{ requests: { route: string; status: number; query?: string }[] }>(
      'GET',
      '/_emulator/requests/timeline',
    );
    expect(reply.body.requests.map((r) => [r.query, r.status])).toEqual([
      ['limit=100&skip=0', 200],
      ['limit=100&skip=100', 500],
      ['skip=1000', 200],
    ]);
  });

  test('a count-limited rule hits only the next n matching requests; GET /_emulator/faults shows what remains', async () => {
    await call('PUT', '/_emulator/faults', {
      rules: [{ route: 'PATCH', count: 2, action: { type: 'status', status: 500 } }],
    });
    expect((await call('GET', '/api/things/1')).status).toBe(200);
    expect((await call('PATCH', '/api/things/1', {})).status).toBe(500);
    const faults = await call<{ rules: { remaining?: number }[] }>('GET', '/_emulator/faults');
    expect(faults.body.rules[0]!.remaining).toBe(1);
    expect((await call('PATCH', '/api/things/2', {})).status).toBe(500);
    expect((await call('PATCH', '/api/things/3', {})).status).toBe(200);
  });

  test('rate 0 never hits; a rule without route hits every API route but not /_emulator/', async () => {
    await call('PUT', '/_emulator/faults', {
      rules: [
        { rate: 0, action: { type: 'status', status: 500 } },
        { count: 1, action: { type: 'status', status: 502 } },
      ],
    });
    expect((await call('GET', '/_emulator/requests')).status).toBe(200);
    expect((await call('POST', '/api/things', {})).status).toBe(502);
    expect((await call('POST', '/api/things', {})).status).toBe(201);
  });

  test('latency: latencyMs delays every API request and a latency rule delays matching ones', async () => {
    await call('PUT', '/_emulator/faults', { latencyMs: 150 });
    let started = Date.now();
    expect((await call('GET', '/api/things')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    await call('PUT', '/_emulator/faults', {
      rules: [{ route: 'GET /api/things/{id}', action: { type: 'latency', ms: 200 } }],
    });
    started = Date.now();
    expect((await call('GET', '/api/things/1')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    started = Date.now();
    await call('GET', '/_emulator/faults');
    expect(Date.now() - started).toBeLessThan(150);
  });

  test('a reset fault drops the connection without an answer and is logged as "reset"', async () => {
    await call('PUT', '/_emulator/faults', {
      rules: [{ route: 'GET /api/things', count: 1, action: { type: 'reset' } }],
    });
    await expect(call('GET', '/api/things')).rejects.toThrow();
    expect((await call('GET', '/api/things')).status).toBe(200);
    const log = await counts();
    expect(log.byStatus).toEqual({ reset: 1, '200': 1 });
    expect(log.byRoute).toEqual({ 'GET /api/things': 2 });
  });

  test('DELETE /_emulator/faults clears every rule; an invalid rule set is refused with 400', async () => {
    await call('PUT', '/_emulator/faults', { rules: [{ action: { type: 'status', status: 500 } }] });
    expect((await call('GET', '/api/things')).status).toBe(500);
    expect((await call('DELETE', '/_emulator/faults')).status).toBe(204);
    expect((await call('GET', '/api/things')).status).toBe(200);
    const bad = await call<{ issues: string[] }>('PUT', '/_emulator/faults', {
      rules: [{ action: { type: 'status', status: 200 } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.length).toBeGreaterThan(0);
  });
});

describe('rate limit', () => {
  test('NF rate limits: beyond rps (burst) requests answer 429 with Retry-After; DELETE lifts the limit', async () => {
    expect((await call('PUT', '/_emulator/rate-limit', { rps: 0.5, burst: 3 })).status).toBe(204);
    expect((await call<{ rps: number; burst: number }>('GET', '/_emulator/rate-limit')).body).toEqual({
      rps: 0.5,
      burst: 3,
    });
    const statuses: number[] = [];
    let limited: Reply<unknown> | undefined;
    for (let i = 0; i < 5; i++) {
      const reply = await call('GET', '/api/things');
      statuses.push(reply.status);
      if (reply.status === 429) limited ??= reply;
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(limited!.headers['retry-after']).toBe('2');
    expect(limited!.body).toEqual({ code: 429, message: expect.stringContaining('rate limit') as unknown });
    // Control calls are never limited.
    expect((await call('GET', '/_emulator/requests')).status).toBe(200);
    expect((await counts()).byStatus).toEqual({ '200': 3, '429': 2 });

    expect((await call('DELETE', '/_emulator/rate-limit')).status).toBe(204);
    expect((await call('GET', '/api/things')).status).toBe(200);
  });

  test('the bucket refills at rps: a client that waits Retry-After is served again', async () => {
    plane.setRateLimit({ rps: 10, burst: 1 });
    expect((await call('GET', '/api/things')).status).toBe(200);
    const limited = await call('GET', '/api/things');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await call('GET', '/api/things')).status).toBe(200);
  });
});
