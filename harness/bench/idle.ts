/**
 * Idle cost (SPEC §9 economy, issue 18): with nothing changing in either directory, what the
 * product asks of JumpCloud and Notion. Target: no write at all; reads no more than the change
 * feed's polls and the reconciliations' listing pages — no per-user or per-group read.
 *
 * An idle hour, scaled down: after the initial sync of `BENCH_IDLE_USERS` users (default 250) in
 * 5 bound groups has settled, the request logs are cleared and the stack is left alone for
 * `BENCH_IDLE_WINDOW` (default 3 minutes) with the default POLL_INTERVAL and RECONCILE_INTERVAL
 * set to `BENCH_IDLE_RECONCILE` (default 90 s), so that the window holds both kinds of work.
 */
import { connectClient } from '../../temporal/connection';
import { setGroupManagementUpdate } from '../../contracts/connector';
import { SEARCH_ATTRIBUTES } from '../../temporal/search-attributes';
import { activateConnector, startBenchStack } from './stack';

const USERS = Number(process.env.BENCH_IDLE_USERS ?? 250);
const GROUPS = 5;
const WINDOW = process.env.BENCH_IDLE_WINDOW ?? '3m';
const RECONCILE = process.env.BENCH_IDLE_RECONCILE ?? '90s';

/** Listing routes: a page each, whatever the number of users (and the feed's polls). */
const LISTINGS = new Set([
  'GET /scim/v2/Users',
  'GET /scim/v2/Groups',
  'GET /api/systemusers',
  'GET /api/v2/usergroups',
  'GET /api/v2/applications/{id}/users',
  'GET /api/v2/applications/{id}/usergroups',
  'GET /api/v2/applications/{id}/associations',
  'GET /api/applications/{id}',
  'POST /insights/directory/v1/events',
]);
const isRead = (route: string) => route.startsWith('GET ') || route === 'POST /insights/directory/v1/events';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const toMs = (text: string) => {
  const match = /^(\d+)(s|m)$/.exec(text);
  if (!match) throw new Error(`idle: ${text} is not a duration such as 90s or 3m`);
  return Number(match[1]) * (match[2] === 'm' ? 60_000 : 1_000);
};

export async function benchIdle(): Promise<boolean> {
  const stack = await startBenchStack({ RECONCILE_INTERVAL: RECONCILE });
  const client = await connectClient(stack.config);
  try {
    const names = Array.from({ length: USERS }, (_, i) => `idle${String(i).padStart(4, '0')}`);
    const groupName = (g: number) => `Idle ${g}`;
    stack.jumpcloud.seed({
      users: names.map((username) => ({
        username,
        email: `${username}@example.com`,
        firstname: 'Idle',
        lastname: 'User',
      })),
      groups: Array.from({ length: GROUPS }, (_, g) => ({
        name: groupName(g),
        members: names.filter((_, i) => i % GROUPS === g),
      })),
      bindings: [{ groups: Array.from({ length: GROUPS }, (_, g) => groupName(g)) }],
    });
    const connector = await activateConnector(client, stack.config);
    // G8: enabling group management on an active connector reconciles at once.
    await connector.executeUpdate(setGroupManagementUpdate, { args: [true] });
    // Settled: every member in Notion and a quiet poll or two after the last write.
    const members = () => (stack.notion.state() as { users: unknown[] }).users.length;
    const groups = () => (stack.notion.state() as { groups: unknown[] }).groups.length;
    const running = async () =>
      (
        await client.workflow.count(
          `${SEARCH_ATTRIBUTES.connectorId.name} = "${stack.config.connectorId}" AND ${SEARCH_ATTRIBUTES.kind.name} = "reconcile" AND ExecutionStatus = "Running"`,
        )
      ).count;
    while (members() < USERS + 1 || groups() < GROUPS || (await running()) > 0) await sleep(1_000);
    await sleep(2 * stack.config.pollIntervalMs);

    stack.notion.control.clearRequests();
    stack.jumpcloud.control.clearRequests();
    const windowMs = toMs(WINDOW);
    const startedAt = new Date();
    console.log(
      `idle: ${USERS} users in ${GROUPS} bound groups, in sync; nothing changes for ${WINDOW} (POLL_INTERVAL ${stack.config.pollIntervalMs / 1000} s, RECONCILE_INTERVAL ${RECONCILE})`,
    );
    await sleep(windowMs);
    const routes = { ...stack.notion.control.requests().byRoute };
    for (const [route, n] of Object.entries(stack.jumpcloud.control.requests().byRoute))
      routes[route] = (routes[route] ?? 0) + n;
    const reconciliations = (
      await client.workflow.count(
        `${SEARCH_ATTRIBUTES.connectorId.name} = "${stack.config.connectorId}" AND ${SEARCH_ATTRIBUTES.kind.name} = "reconcile" AND StartTime >= "${startedAt.toISOString()}"`,
      )
    ).count;

    const writes = Object.entries(routes).filter(([route]) => !isRead(route));
    const perEntity = Object.entries(routes).filter(([route]) => isRead(route) && !LISTINGS.has(route));
    const listings = Object.entries(routes).filter(([route]) => LISTINGS.has(route));
    const sum = (entries: [string, number][]) => entries.reduce((total, [, n]) => total + n, 0);
    const format = (entries: [string, number][]) =>
      entries.length === 0 ? 'none' : entries.map(([route, n]) => `${n} × ${route}`).join(', ');
    const polls = routes['POST /insights/directory/v1/events'] ?? 0;
    console.log(
      `idle: ${reconciliations} reconciliation(s) and ${polls} feed poll(s) in ${WINDOW}; listing reads ${sum(listings)} (${format(listings)})`,
    );
    const writesOk = writes.length === 0;
    const readsOk = perEntity.length === 0;
    console.log(
      `idle: writes ${sum(writes)} (${format(writes)}) (target 0) ${writesOk ? 'OK' : 'BELOW TARGET'}`,
    );
    console.log(
      `idle: per-user and per-group reads ${sum(perEntity)} (${format(perEntity)}) (target 0: only the feed's polls and the reconciliations' pages) ${readsOk ? 'OK' : 'BELOW TARGET'}`,
    );
    return writesOk && readsOk;
  } finally {
    await client.connection.close();
    await stack.stop();
  }
}
