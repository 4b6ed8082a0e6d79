/**
 * The Temporal Web UI as a process of its own: built (or taken from the cache) from the pinned
 * ui-server release, pointed at a real dev server, it serves its settings, its page and the
 * cluster's API. The first build takes minutes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { obtainTemporalCli } from '../../harness/temporal/cli-binary';
import { startDevServer, type DevServer } from '../../harness/temporal/dev-server';
import {
  obtainTemporalUiServer,
  resolveTemporalUiServer,
  startTemporalUi,
  TemporalUiServerUnavailableError,
  type TemporalUi,
} from '../../harness/temporal/ui-server';

const CODEC_ENDPOINT = 'http://127.0.0.1:8089/codec';
const log = (line: string) => process.stderr.write(`[temporal-ui] ${line}\n`);

describe('the Temporal UI server', () => {
  let dir: string;
  let server: DevServer | undefined;
  let ui: TemporalUi | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-ui-'));
    const [cli, binary] = await Promise.all([obtainTemporalCli(), obtainTemporalUiServer({ log })]);
    server = await startDevServer({ executable: cli.path, uiPort: false });
    ui = await startTemporalUi({
      binary: binary.path,
      temporalAddress: server.address,
      dir,
      codecEndpoint: CODEC_ENDPOINT,
      corsOrigins: ['http://127.0.0.1:3000'],
      log,
    });
  }, 40 * 60_000);

  afterAll(async () => {
    await ui?.stop();
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('serves its settings, with the codec endpoint configured', async () => {
    const response = await request(`${ui!.url}/api/v1/settings`);
    expect(response.statusCode).toBe(200);
    const settings = (await response.body.json()) as {
      Codec: { Endpoint: string };
      DefaultNamespace: string;
      Version: string;
    };
    expect(settings.Codec.Endpoint).toBe(CODEC_ENDPOINT);
    expect(settings.DefaultNamespace).toBe('default');
    expect(settings.Version).toBe('2.42.1');
  });

  test('serves the UI page from the assets embedded in the binary', async () => {
    const response = await request(`${ui!.url}/`);
    expect(response.statusCode).toBe(200);
    expect(String(response.headers['content-type'])).toMatch(/text\/html/);
    const html = await response.body.text();
    expect(html).toContain('<html');
    // And the scripts the page loads (the built Svelte app), not just its shell.
    const script = /href="(\/_app\/immutable\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await request(`${ui!.url}${script}`);
    await asset.body.dump();
    expect(asset.statusCode).toBe(200);
  });

  test("lists the cluster's namespaces through its API", async () => {
    const response = await request(`${ui!.url}/api/v1/namespaces`);
    const text = await response.body.text();
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(text) as { namespaces?: { namespaceInfo?: { name?: string } }[] };
    expect((body.namespaces ?? []).map((n) => n.namespaceInfo?.name)).toContain('default');
  });

  test('writes its output to ui.log in its folder', () => {
    expect(ui!.logFile).toBe(path.join(dir, 'ui.log'));
    expect(fs.existsSync(ui!.logFile)).toBe(true);
  });

  test('a TEMPORAL_UI_SERVER_PATH that does not work is an error naming it', async () => {
    await expect(
      resolveTemporalUiServer({ env: { TEMPORAL_UI_SERVER_PATH: path.join(dir, 'missing') }, cacheDir: dir }),
    ).rejects.toThrow(TemporalUiServerUnavailableError);
    await expect(
      resolveTemporalUiServer({ env: { TEMPORAL_UI_SERVER_PATH: path.join(dir, 'missing') }, cacheDir: dir }),
    ).rejects.toThrow(/TEMPORAL_UI_SERVER_PATH=.*missing is not a working Temporal UI server/);
  });
});
