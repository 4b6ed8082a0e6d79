/**
 * Issue 19: the Temporal UI as the admin's console, in a real browser (Debian's Chromium through
 * playwright-core) against the local stack after a demo sync: find a user by email the way an
 * admin would, open its workflow, read who it is and what the create step did. The screenshots it
 * takes are the README's: `UPDATE_SCREENSHOTS=1 npx jest test/ui.e2e.test.ts` writes them to
 * docs/screenshots/ (other runs write them to a temporary folder, leaving the clone as it is).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createDemoOrganization } from '../harness/emulators/seed/demo';
import { freeLocalPorts, startLocalStack, type LocalStack } from '../harness/local/stack';
import { userLabel, userWorkflowSummary } from '../workflows/summaries';
import { launchChromium } from './support/browser';
import { cleanEnv, ROOT, runCli } from './support/cli';

const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
  ? path.join(ROOT, 'docs', 'screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-ui-screenshots-'));
/** For each wait in the page: a busy 2-core machine runs the stack, the worker and the browser. */
const UI_TIMEOUT = 60_000;

let browser: Browser | undefined;
let stack: LocalStack | undefined;

beforeAll(async () => {
  browser = await launchChromium(); // first: without Chromium the test fails at once, saying why
  stack = await startOnFreePorts();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

test('issue 19: after a demo sync, an admin finds a user in the Temporal UI by email; its page names the user and its history says what the create step did', async () => {
  const env = cleanEnv({ TEMPORAL_ADDRESS: stack!.temporal.address });
  const activated = await runCli(['activate', '--approve-creations'], env);
  expect([activated.code, activated.stderr]).toEqual([0, '']);
  // The demo holds users Notion refuses on purpose: `sync` exits non-zero for them, once all settled.
  const sync = await runCli(['sync'], env, ROOT, 240_000);
  expect(sync.stdout + sync.stderr).toMatch(/users planned\s+(\d+)\s+done\s+\1\b/);

  const user = createdDemoUser(stack!);
  const personal = { personal: true }; // the local stack's default: plain search attributes, no encryption
  const summary = userWorkflowSummary(personal, user.id, {
    email: user.email,
    username: user.username,
    displayName: `${user.firstname} ${user.lastname}`,
  });
  const createStep = `create ${userLabel(personal, user.id, { email: user.email })} in Notion`;

  const page = await browser!.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
  page.setDefaultTimeout(UI_TIMEOUT);
  try {
    await page.goto(`${stack!.temporal.uiUrl}/namespaces/default/workflows`);
    const rows = page.getByTestId('workflows-summary-configurable-table-row');
    await rows.nth(1).waitFor(); // the unfiltered list (every user of the demo)
    // The list's columns as the README suggests (the browser keeps them): who and in what state.
    await page.getByTestId('workflows-summary-table-configuration-button').click();
    for (const column of ['Run ID', 'Type', 'Start', 'End'])
      await page.getByRole('button', { name: `Remove ${column} column` }).click();
    for (const column of ['JcnEmail', 'JcnSyncState'])
      await page.getByRole('button', { name: `Add ${column} column` }).click();
    await page.getByTestId('drawer-close-button').click();

    // The search an admin types into the list's query box.
    await page.getByTestId('toggle-manual-query').click();
    const search = page.getByTestId('manual-search-input');
    await search.fill(`JcnEmail = "${user.email}"`);
    await search.press('Enter');
    await page.waitForURL(/[?&]query=/);
    // The unfiltered list goes, the user's row shows, and no other.
    const workflowId = `jcn/default/user/${user.id}`;
    await rows.nth(1).waitFor({ state: 'detached' });
    await page.getByTestId('workflow-count').filter({ hasText: /^1$/ }).waitFor();
    await rows.filter({ hasText: workflowId }).filter({ hasText: 'in-sync' }).waitFor();
    expect(await rows.count()).toBe(1);
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'ui-search.png'),
      clip: { x: 0, y: 0, width: 1440, height: 420 },
    });

    // Its history: the create step, by its activity summary (timeline and event table).
    await rows.getByRole('link', { name: workflowId }).click();
    await page.waitForURL(/\/workflows\/jcn%2Fdefault%2Fuser%2F[^/]+\/[^/]+\/history/);
    const events = page.getByRole('table').filter({ hasText: 'Activity Task Scheduled' });
    await events.getByText(createStep, { exact: true }).waitFor();
    // Its User Metadata tab: the summary names the user; the current details (queried from the
    // running workflow) give its links and state; the steps that carry a summary are listed.
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    await markdownUnder(page, 'Summary').getByText(summary, { exact: true }).waitFor();
    await markdownUnder(page, 'Current Details').getByText(`JumpCloud id: ${user.id}`).waitFor();
    await page.getByText(createStep, { exact: true }).waitFor();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'ui-user-history.png'),
      clip: { x: 0, y: 0, width: 1440, height: 780 },
    });
  } finally {
    await page.close();
  }
});

/** The local stack with the demo on ports free a moment ago (another test file may take one). */
async function startOnFreePorts(): Promise<LocalStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLocalStack({
        ports: await freeLocalPorts(),
        seed: 'demo',
        progress: () => undefined,
        env: { LOG_LEVEL: 'error', NOTION_MAX_RPS: '30' },
      });
    } catch (error) {
      if (attempt >= 3 || !/already in use/.test(String(error))) throw error;
    }
  }
}

/** The first demo user (in seed order) the sync created in Notion, with a name fit for a README. */
function createdDemoUser(local: LocalStack) {
  const demo = createDemoOrganization();
  const before = new Set((demo.notion.users ?? []).map((member) => member.userName));
  const active = new Set(
    (local.notion.state() as { users: { userName: string; active: boolean }[] }).users
      .filter((member) => member.active)
      .map((member) => member.userName),
  );
  const user = (demo.jumpcloud.users ?? []).find(
    (candidate) =>
      active.has(candidate.email) &&
      !before.has(candidate.email) &&
      /^[\p{L} '-]+$/u.test(`${candidate.firstname} ${candidate.lastname}`),
  );
  if (!user?.id) throw new Error('the demo sync created no user in Notion');
  return { ...user, id: user.id };
}

/** The UI renders summaries and details (markdown) in a frame below their heading. */
function markdownUnder(page: Page, heading: string) {
  return page
    .locator(
      `xpath=//h3[normalize-space()="${heading}"]/ancestor::div[.//iframe][1]//iframe[@title="output"]`,
    )
    .first()
    .contentFrame();
}
