/**
 * Change-feed latency and cost (SPEC C4, issues 7 and 18): the time from a change in JumpCloud
 * (visible in Directory Insights at once) to the change in Notion, over 100 renames made one by
 * one at random moments of the poll cycle (one a second on average), with the default
 * POLL_INTERVAL and the default Notion rate limit (NOTION_MAX_RPS 3); and the Notion requests
 * each applied change cost, reads included.
 * Runs on the local stack (dev server, emulators, one worker) on free ports. Targets: p95 within
 * POLL_INTERVAL + 5 s; at most 1.1 Notion requests per change.
 */
import { connectClient } from '../../temporal/connection';
import { activateAndSync, startBenchStack } from './stack';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const USERS = 100;
const SLACK_MS = 5_000;
const REQUESTS_PER_CHANGE = 1.1;
/** Mean time between changes: one a second (issue 18). */
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 1_000);

interface NotionUserState {
  userName: string;
  familyName?: string;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchLatency(): Promise<boolean> {
  // No scheduled reconciliation during the run: what is counted is the feed's path.
  const stack = await startBenchStack({ RECONCILE_INTERVAL: '24h' });
  const client = await connectClient(stack.config);
  try {
    const pollIntervalMs = stack.config.pollIntervalMs;
    const names = Array.from({ length: USERS }, (_, i) => `lat${i}`);
    stack.jumpcloud.seed({
      users: names.map((username) => ({
        username,
        email: `${username}@example.com`,
        firstname: 'Lat',
        lastname: 'v0',
      })),
      groups: [{ name: 'Latency', members: names }],
      bindings: [{ groups: ['Latency'] }],
    });
    await activateAndSync(client, stack.config);
    const notionUsers = () => (stack.notion.state() as { users: NotionUserState[] }).users;
    while (notionUsers().filter((u) => u.familyName === 'v0').length < USERS) await sleep(200);

    const ids = new Map(stack.jumpcloud.state().users.map((u) => [u.username, u._id]));
    const pending = new Map<string, { expected: string; at: number }>();
    const latencies: number[] = [];
    const watcher = (async () => {
      while (latencies.length < CHANGES) {
        const now = Date.now();
        const byName = new Map(notionUsers().map((u) => [u.userName, u.familyName]));
        for (const [userName, change] of pending) {
          if (byName.get(userName) === change.expected) {
            latencies.push(now - change.at);
            pending.delete(userName);
          }
        }
        await sleep(25);
      }
    })();
    stack.notion.control.clearRequests();
    process.stdout.write(
      `latency: ${CHANGES} renames, POLL_INTERVAL ${pollIntervalMs / 1000} s, NOTION_MAX_RPS ${stack.config.notion.maxRps}\n`,
    );
    for (let i = 0; i < CHANGES; i++) {
      const username = names[i % USERS]!;
      const expected = `v${i + 1}`;
      // A random moment of the poll cycle, and never two pending changes to one user.
      while (pending.has(`${username}@example.com`)) await sleep(50);
      await sleep(GAP_MS / 2 + Math.random() * GAP_MS);
      stack.jumpcloud.updateUser(ids.get(username)!, { lastname: expected });
      pending.set(`${username}@example.com`, { expected, at: Date.now() });
    }
    await watcher;
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p95 = percentile(sorted, 95);
    const target = pollIntervalMs + SLACK_MS;
    const fast = p95 <= target;
    console.log(
      `latency: event → Notion p50 ${(p50 / 1000).toFixed(2)} s, p95 ${(p95 / 1000).toFixed(2)} s, max ${(sorted[sorted.length - 1]! / 1000).toFixed(2)} s (target p95 ≤ ${target / 1000} s) ${fast ? 'OK' : 'BELOW TARGET'}`,
    );
    const { total, byRoute } = stack.notion.control.requests();
    const perChange = total / CHANGES;
    const cheap = perChange <= REQUESTS_PER_CHANGE;
    const routes = Object.entries(byRoute)
      .map(([route, count]) => `${route} ${count}`)
      .join(', ');
    console.log(
      `latency: Notion requests per applied change ${perChange.toFixed(2)} (${total}: ${routes}; target ≤ ${REQUESTS_PER_CHANGE}) ${cheap ? 'OK' : 'BELOW TARGET'}`,
    );
    return fast && cheap;
  } finally {
    await client.connection.close();
    await stack.stop();
  }
}
