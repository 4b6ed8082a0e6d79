/**
 * Issue 15: a reconciliation's listings resume from their last page on an activity retry. The
 * checkpoints themselves (taken once, kept for a third attempt, expired, released), then both
 * clients against their emulators: a page that keeps failing fails the attempt, and the next
 * attempt, given the key the first one's heartbeat carried, reads only the pages not yet read.
 */
import type { ListingState } from '../../api/listing';
import { ListingCollector } from '../../api/listing';
import { JumpCloudClient } from '../../api/jumpcloud';
import { NotionScimClient } from '../../api/notion';
import { ListingCheckpoints } from '../../activities/listing-checkpoints';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../../harness/emulators/notion';

const NOTION_TOKEN = 'checkpoint-test-token-61a0';
const JC_KEY = 'checkpoint-test-key-7d3c';
const JC_ORG = '5e9a3c7b1d2f4a6b8c0d1e2f';

function stateAt(next: number | undefined, ids: string[]): ListingState<{ id: string }> {
  const pages = new ListingCollector<{ id: string }>((item) => item.id);
  pages.add(
    ids.map((id) => ({ id })),
    ids.length,
  );
  return { pages, next };
}

describe('the checkpoints of one worker process', () => {
  test('issue 15: the next attempt takes what the previous one saved, once per listing; a third attempt still finds it', () => {
    const store = new ListingCheckpoints();
    const first = store.open(undefined);
    first.listing<{ id: string }>('notion members').save(stateAt(101, ['a']));
    expect(first.positions()).toEqual({ 'notion members': 101 });

    const second = store.open(first.key);
    expect(second.resumed).toBe(true);
    expect(second.key).not.toBe(first.key);
    const members = second.listing<{ id: string }>('notion members');
    expect(members.take()?.next).toBe(101);
    // A second pass of the same listing (it did not add up) starts from its first page.
    expect(members.take()).toBeUndefined();
    expect(second.listing('jumpcloud users').take()).toBeUndefined();

    // The second attempt failed before saving anything new: the third still resumes.
    const third = store.open(second.key);
    expect(third.listing<{ id: string }>('notion members').take()?.next).toBe(101);
    expect(store.size).toBe(1);
    third.close();
    expect(store.size).toBe(0);
  });

  test('issue 15: an unknown key, an entry of another process or one past its time to live starts from the first page', () => {
    let now = 0;
    const store = new ListingCheckpoints(60_000, () => now);
    expect(store.open('not-a-key').resumed).toBe(false);
    const old = store.open(undefined);
    old.listing<{ id: string }>('notion members').save(stateAt(201, ['a', 'b']));
    now = 60_001;
    expect(store.open(old.key).resumed).toBe(false);
  });
});

describe('listings resumed against the emulators', () => {
  let notion: NotionEmulator;
  let jumpcloud: JumpCloudEmulator;
  let notionOrigin: string;
  let jumpcloudOrigin: string;

  beforeAll(async () => {
    notion = createNotionEmulator({ token: NOTION_TOKEN });
    jumpcloud = createJumpCloudEmulator({ apiKey: JC_KEY, orgId: JC_ORG });
    notionOrigin = await notion.listen();
    jumpcloudOrigin = await jumpcloud.listen();
  });

  afterAll(async () => {
    await notion.close();
    await jumpcloud.close();
  });

  /** The queries of a route's requests, in order, with their statuses. */
  async function pagesRead(origin: string, route: string): Promise<string[]> {
    const reply = (await (await fetch(`${origin}/_emulator/requests/timeline`)).json()) as {
      requests: { route: string; status: number; query?: string }[];
    };
    return reply.requests
      .filter((r) => r.route === route)
      .map((r) => `${r.query ?? ''} → ${r.status === 0 ? 'reset' : r.status}`);
  }

  test('issue 15 (C5): a Notion listing whose fourth page kept failing resumes from that page on the next attempt', async () => {
    notion.seed({
      users: Array.from({ length: 350 }, (_, i) => ({
        userName: `member${i}@example.com`,
        givenName: 'M',
        familyName: `${i}`,
      })),
    });
    const client = new NotionScimClient({
      baseUrl: `${notionOrigin}/scim/v2`,
      token: () => NOTION_TOKEN,
      pageRetry: { attempts: 2, maxDelayMs: 10 },
    });
    try {
      notion.control.setFaults({
        rules: [
          {
            route: 'GET /scim/v2/Users',
            query: { startIndex: '301' },
            action: { type: 'status', status: 500 },
          },
        ],
      });
      const store = new ListingCheckpoints();
      const first = store.open(undefined);
      await expect(client.listUsers(first.listing('notion members'))).rejects.toThrow(/500/);
      expect(first.positions()).toEqual({ 'notion members': 301 });

      notion.control.setFaults({});
      const second = store.open(first.key);
      const listing = await client.listUsers(second.listing('notion members'));
      expect(listing.complete).toBe(true);
      expect(listing.items).toHaveLength(351); // and the token owner
      expect(second.positions()).toEqual({ 'notion members': 'done' });
      expect(await pagesRead(notionOrigin, 'GET /scim/v2/Users')).toEqual([
        'startIndex=1&count=100 → 200',
        'startIndex=101&count=100 → 200',
        'startIndex=201&count=100 → 200',
        'startIndex=301&count=100 → 500',
        'startIndex=301&count=100 → 500',
        'startIndex=301&count=100 → 200',
      ]);
    } finally {
      await client.close();
    }
  });

  test('issue 15 (C5): a JumpCloud listing resumes from its failed page; a listing already finished is not read again', async () => {
    jumpcloud.seed({
      users: Array.from({ length: 250 }, (_, i) => ({
        username: `u${i}`,
        email: `u${i}@example.com`,
        firstname: 'F',
        lastname: `L${i}`,
      })),
    });
    const client = new JumpCloudClient({
      baseUrl: jumpcloudOrigin,
      insightsUrl: `${jumpcloudOrigin}/insights/directory/v1`,
      apiKey: () => JC_KEY,
      orgId: JC_ORG,
      pageRetry: { attempts: 1 },
    });
    try {
      jumpcloud.control.setFaults({
        rules: [{ route: 'GET /api/systemusers', query: { skip: '200' }, action: { type: 'reset' } }],
      });
      const store = new ListingCheckpoints();
      const first = store.open(undefined);
      await expect(client.readUserListing(undefined, first.listing('jumpcloud users'))).rejects.toThrow();

      jumpcloud.control.setFaults({});
      const second = store.open(first.key);
      const listing = await client.readUserListing(undefined, second.listing('jumpcloud users'));
      expect(listing.complete).toBe(true);
      expect(listing.items).toHaveLength(250);
      // A third attempt (the activity failed later, reading Notion) does not read JumpCloud again.
      const third = store.open(second.key);
      expect((await client.readUserListing(undefined, third.listing('jumpcloud users'))).items).toHaveLength(
        250,
      );
      expect(await pagesRead(jumpcloudOrigin, 'GET /api/systemusers')).toEqual([
        'limit=100&skip=0&sort=_id → 200',
        'limit=100&skip=100&sort=_id → 200',
        'limit=100&skip=200&sort=_id → reset',
        'limit=100&skip=200&sort=_id → 200',
      ]);
    } finally {
      await client.close();
    }
  });
});
