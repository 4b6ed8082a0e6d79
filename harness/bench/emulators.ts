/**
 * Emulator throughput (issue 3: at least 2,000 simple requests/s each on a 2-core machine). The
 * emulators run in a child process; this process generates load with undici (64 in flight) for a
 * few seconds per scenario and reports requests per second.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { Pool } from 'undici';

const TARGET_RPS = 2000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const IN_FLIGHT = 64;

interface Scenario {
  name: string;
  origin: 'jumpcloud' | 'notion';
  request: (i: number) => {
    method: 'GET' | 'PATCH';
    path: string;
    headers: Record<string, string>;
    body?: string;
  };
}

const notionHeaders = { authorization: 'Bearer local-notion-token', 'content-type': 'application/scim+json' };
const jcHeaders = { 'x-api-key': 'local-jumpcloud-key' };

async function run(pool: Pool, scenario: Scenario): Promise<{ rps: number; errors: number }> {
  const deadline = Date.now() + SECONDS * 1000;
  let done = 0;
  let errors = 0;
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (Date.now() < deadline) {
        const { method, path: p, headers, body } = scenario.request(next++);
        const response = await pool.request({ method, path: p, headers, body });
        await response.body.dump();
        if (response.statusCode >= 400) errors++;
        done++;
      }
    }),
  );
  return { rps: done / ((Date.now() - started) / 1000), errors };
}

export async function benchEmulators(): Promise<boolean> {
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'emulator-server.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const line = await new Promise<string>((resolve) =>
      readline.createInterface({ input: server.stdout }).once('line', resolve),
    );
    const origins = JSON.parse(line) as { jumpcloud: string; notion: string };
    // Ids to address: read once.
    const jcPool = new Pool(origins.jumpcloud, { connections: IN_FLIGHT });
    const notionPool = new Pool(origins.notion, { connections: IN_FLIGHT });
    const jcUsers = (await (
      await jcPool.request({ method: 'GET', path: '/api/systemusers?limit=100', headers: jcHeaders })
    ).body.json()) as {
      results: { _id: string }[];
    };
    const jcGroups = (await (
      await jcPool.request({ method: 'GET', path: '/api/v2/usergroups?limit=100', headers: jcHeaders })
    ).body.json()) as {
      id: string;
    }[];
    const scim = (await (
      await notionPool.request({ method: 'GET', path: '/scim/v2/Users?count=100', headers: notionHeaders })
    ).body.json()) as {
      Resources: { id: string }[];
    };
    const appId = '64b7f0c2a1d3e4f5a6b7c8d9';
    const pick = <T>(items: T[], i: number): T => items[i % items.length]!;
    const scenarios: Scenario[] = [
      {
        name: 'Notion GET /Users/{id}',
        origin: 'notion',
        request: (i) => ({
          method: 'GET',
          path: `/scim/v2/Users/${pick(scim.Resources, i).id}`,
          headers: notionHeaders,
        }),
      },
      {
        name: 'Notion GET /Users?filter=email eq',
        origin: 'notion',
        request: (i) => ({
          method: 'GET',
          path: `/scim/v2/Users?filter=${encodeURIComponent(`email eq "user${i % 10_000}@example.com"`)}`,
          headers: notionHeaders,
        }),
      },
      {
        name: 'Notion PATCH /Users/{id}',
        origin: 'notion',
        request: (i) => ({
          method: 'PATCH',
          path: `/scim/v2/Users/${pick(scim.Resources, i).id}`,
          headers: notionHeaders,
          body: JSON.stringify({
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path: 'name.givenName', value: `User${i % 7}` }],
          }),
        }),
      },
      {
        name: 'JumpCloud GET /api/systemusers/{id}',
        origin: 'jumpcloud',
        request: (i) => ({
          method: 'GET',
          path: `/api/systemusers/${pick(jcUsers.results, i)._id}`,
          headers: jcHeaders,
        }),
      },
      {
        name: 'JumpCloud GET /api/v2/usergroups/{id}',
        origin: 'jumpcloud',
        request: (i) => ({
          method: 'GET',
          path: `/api/v2/usergroups/${pick(jcGroups, i).id}`,
          headers: jcHeaders,
        }),
      },
      {
        name: 'JumpCloud GET /api/v2/users/{id}/memberof',
        origin: 'jumpcloud',
        request: (i) => ({
          method: 'GET',
          path: `/api/v2/users/${pick(jcUsers.results, i)._id}/memberof`,
          headers: jcHeaders,
        }),
      },
      {
        name: 'JumpCloud GET applications/{id}/users (page of 100)',
        origin: 'jumpcloud',
        request: (i) => ({
          method: 'GET',
          path: `/api/v2/applications/${appId}/users?limit=100&skip=${(i % 100) * 100}`,
          headers: jcHeaders,
        }),
      },
    ];
    let ok = true;
    console.log(
      `Emulator throughput (${SECONDS} s each, ${IN_FLIGHT} in flight; target ≥ ${TARGET_RPS} req/s for simple requests)`,
    );
    for (const scenario of scenarios) {
      const { rps, errors } = await run(scenario.origin === 'notion' ? notionPool : jcPool, scenario);
      const simple = !scenario.name.includes('page of 100');
      const verdict = simple ? (rps >= TARGET_RPS ? 'ok' : 'BELOW TARGET') : 'info';
      if (simple && rps < TARGET_RPS) ok = false;
      console.log(
        `  ${scenario.name.padEnd(52)} ${rps.toFixed(0).padStart(6)} req/s  ${errors ? `${errors} errors  ` : ''}${verdict}`,
      );
    }
    await Promise.all([jcPool.close(), notionPool.close()]);
    return ok;
  } finally {
    server.kill('SIGTERM');
  }
}
