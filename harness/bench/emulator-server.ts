/**
 * Starts both emulators with a large directory (10,000 users, 100 groups) and prints their
 * origins as one JSON line; used by bench/emulators.ts from a separate process.
 */
import { createJumpCloudEmulator } from '../emulators/jumpcloud';
import { createNotionEmulator } from '../emulators/notion';

async function main(): Promise<void> {
  const users = Array.from({ length: 10_000 }, (_, i) => ({
    username: `user${i}`,
    email: `user${i}@example.com`,
    firstname: 'User',
    lastname: `Number${i}`,
  }));
  const groups = Array.from({ length: 100 }, (_, g) => ({
    name: `Group ${g}`,
    members: users.slice(g * 100, g * 100 + 100).map((u) => u.username),
  }));
  const jumpcloud = createJumpCloudEmulator();
  jumpcloud.seed({ users, groups, bindings: [{ groups: groups.map((g) => g.name) }] });
  const notion = createNotionEmulator();
  notion.seed({
    users: users.map((u) => ({ userName: u.email, givenName: u.firstname, familyName: u.lastname })),
  });
  const origins = { jumpcloud: await jumpcloud.listen(), notion: await notion.listen() };
  process.stdout.write(`${JSON.stringify(origins)}\n`);
  process.on('SIGTERM', () => {
    void Promise.all([jumpcloud.close(), notion.close()]).then(() => process.exit(0));
  });
}

void main();
