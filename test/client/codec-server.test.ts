/**
 * Issue 16: the codec server (`jc-notion codec-server`) shows encrypted payloads in clear to the
 * Temporal Web UI and the `temporal` CLI, to whoever holds the token and from the UI's origin
 * only, and answers a payload it cannot decode with a 400 that names the key, never its contents.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { request } from 'undici';
import { startCodecServer, type CodecServer } from '../../temporal/codec-server';
import { EncryptionCodec, type EncryptionKey } from '../../temporal/encryption-codec';
import { cleanEnv, runCli, spawnCli, waitForOutput } from '../support/cli';

const TOKEN = randomBytes(24).toString('hex');
const ORIGIN = 'http://127.0.0.1:8233';
const NAMESPACE = 'codec-test';
const KEY: EncryptionKey = { id: 'k1', key: randomBytes(32) };
const PERSON = { email: 'kate.mcdonald@example.com', name: 'Kate McDonald' };

let server: CodecServer;

beforeAll(async () => {
  server = await startCodecServer({
    codec: new EncryptionCodec([KEY]),
    token: TOKEN,
    allowedOrigin: ORIGIN,
    namespace: NAMESPACE,
  });
});

afterAll(async () => {
  await server?.close();
});

interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

const toJson = (payload: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value).toString('base64'),
    ]),
  ),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});

const fromJson = (payload: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata).map(([key, value]) => [
      key,
      new Uint8Array(Buffer.from(value, 'base64')),
    ]),
  ),
  data: new Uint8Array(Buffer.from(payload.data, 'base64')),
});

async function call(
  path: string,
  options: { method?: 'POST' | 'OPTIONS' | 'GET'; headers?: Record<string, string>; body?: string } = {},
) {
  const response = await request(`${server.url}${path}`, {
    method: options.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body,
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}

const auth = { authorization: `Bearer ${TOKEN}` };
const body = (payloads: Payload[]) => JSON.stringify({ payloads: payloads.map(toJson) });

test('issue 16: codec server round trip: encode then decode through the server gives the payload back; the encoded one is binary/encrypted', async () => {
  const original = defaultPayloadConverter.toPayload(PERSON);
  const encoded = await call('/encode', {
    headers: { ...auth, 'x-namespace': NAMESPACE },
    body: body([original]),
  });
  expect(encoded.status).toBe(200);
  expect(encoded.headers['content-type']).toMatch(/^application\/json/);
  const sealed = (JSON.parse(encoded.text) as { payloads: JsonPayload[] }).payloads;
  expect(sealed).toHaveLength(1);
  expect(Buffer.from(sealed[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
  expect(encoded.text).not.toMatch(/kate|McDonald/i);

  const decoded = await call('/decode', { headers: auth, body: JSON.stringify({ payloads: sealed }) });
  expect(decoded.status).toBe(200);
  const [plain] = (JSON.parse(decoded.text) as { payloads: JsonPayload[] }).payloads;
  expect(fromJson(plain!)).toEqual(original);
  expect(defaultPayloadConverter.fromPayload(fromJson(plain!))).toEqual(PERSON);
});

test('issue 16: codec server refuses a request without Authorization or with a wrong token (401), echoing neither', async () => {
  const payload = body([defaultPayloadConverter.toPayload(PERSON)]);
  const wrong = randomBytes(24).toString('hex');
  const attempts: Record<string, string>[] = [
    {},
    { authorization: `Bearer ${wrong}` },
    { authorization: TOKEN },
  ];
  for (const headers of attempts) {
    const response = await call('/decode', { headers, body: payload });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(response.text)).toEqual({ error: expect.any(String) });
    expect(response.text).not.toContain(TOKEN);
    expect(response.text).not.toContain(wrong);
  }
});

test('issue 16: codec server refuses a request from another origin even with a valid token (403, no CORS headers)', async () => {
  const response = await call('/decode', {
    headers: { ...auth, origin: 'https://evil.example.com' },
    body: body([defaultPayloadConverter.toPayload(PERSON)]),
  });
  expect(response.status).toBe(403);
  expect(response.headers['access-control-allow-origin']).toBeUndefined();
  expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  expect(JSON.parse(response.text)).toEqual({ error: expect.any(String) });

  // From the UI's origin, the same request is answered, with CORS headers for that origin only.
  const allowed = await call('/decode', {
    headers: { ...auth, origin: ORIGIN },
    body: body([defaultPayloadConverter.toPayload(PERSON)]),
  });
  expect(allowed.status).toBe(200);
  expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN);
  expect(allowed.headers['vary']).toBe('Origin');
});

test('issue 16: codec server answers a preflight from the allowed origin (204, CORS headers, no token needed) and refuses one from another (403)', async () => {
  const preflight = {
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization, content-type, x-namespace',
  };
  const allowed = await call('/decode', { method: 'OPTIONS', headers: { ...preflight, origin: ORIGIN } });
  expect(allowed.status).toBe(204);
  expect(allowed.headers).toMatchObject({
    'access-control-allow-origin': ORIGIN,
    vary: 'Origin',
    'access-control-allow-credentials': 'true',
    'access-control-allow-headers': 'authorization, content-type, x-namespace',
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-max-age': '600',
  });

  const other = await call('/decode', {
    method: 'OPTIONS',
    headers: { ...preflight, origin: 'http://127.0.0.1:9999' },
  });
  expect(other.status).toBe(403);
  expect(other.headers['access-control-allow-origin']).toBeUndefined();
});

test('issue 16: codec server capability path /<token>/decode works without a header; a wrong path token is 401', async () => {
  const [sealed] = await new EncryptionCodec([KEY]).encode([defaultPayloadConverter.toPayload(PERSON)]);
  const good = await call(`/${TOKEN}/decode`, { headers: { origin: ORIGIN }, body: body([sealed!]) });
  expect(good.status).toBe(200);
  const [plain] = (JSON.parse(good.text) as { payloads: JsonPayload[] }).payloads;
  expect(defaultPayloadConverter.fromPayload(fromJson(plain!))).toEqual(PERSON);

  // The UI may send its own access token alongside: the path decides.
  const withUiToken = await call(`/${TOKEN}/encode`, {
    headers: { authorization: 'Bearer ui-access-token' },
    body: body([defaultPayloadConverter.toPayload(PERSON)]),
  });
  expect(withUiToken.status).toBe(200);

  const wrong = randomBytes(24).toString('hex');
  const refused = await call(`/${wrong}/decode`, { headers: auth, body: body([sealed!]) });
  expect(refused.status).toBe(401);
  expect(refused.text).not.toContain(wrong);
  expect(refused.text).not.toContain(TOKEN);

  for (const path of ['/', '/decode/more', `/a/${TOKEN}/decode`, '/payloads']) {
    const response = await call(path, { headers: auth, body: body([]) });
    expect(response.status).toBe(404);
    expect(JSON.parse(response.text)).toEqual({ error: expect.any(String) });
  }
  expect((await call('/decode', { method: 'GET', headers: auth })).status).toBe(404);
});

test('issue 16: codec server answers 400 to a body that is not JSON or not the payloads shape, 413 beyond 4 MiB', async () => {
  for (const bad of [
    '{"payloads": [',
    'null',
    '{"payloads": "x"}',
    '{"payloads": [{"data": "not base64!"}]}',
  ]) {
    const response = await call('/decode', { headers: auth, body: bad });
    expect(response.status).toBe(400);
    expect((JSON.parse(response.text) as { error: string }).error).toMatch(/not JSON|invalid body/);
  }
  // Declared too large: refused before a byte of it is read.
  const huge = await new Promise<number>((resolve, reject) => {
    const req = http.request(
      `${server.url}/decode`,
      { method: 'POST', headers: { ...auth, 'content-length': String(5 * 1024 * 1024) } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      },
    );
    req.on('error', reject);
    req.write('{"payloads":[');
  });
  expect(huge).toBe(413);
});

test('issue 16: codec server answers 400 (not 500) to a payload under a key id it does not hold, without the token or the payload', async () => {
  const [sealed] = await new EncryptionCodec([{ id: 'retired', key: randomBytes(32) }]).encode([
    defaultPayloadConverter.toPayload(PERSON),
  ]);
  const response = await call('/decode', { headers: auth, body: body([sealed!]) });
  expect(response.status).toBe(400);
  expect((JSON.parse(response.text) as { error: string }).error).toMatch(/"retired"/);
  expect(response.text).not.toContain(TOKEN);
  expect(response.text).not.toContain(toJson(sealed!).data);

  // A payload never encrypted decodes as it is.
  const plain = defaultPayloadConverter.toPayload(PERSON);
  const passthrough = await call('/decode', { headers: auth, body: body([plain]) });
  expect(passthrough.status).toBe(200);
});

test('issue 16: codec server refuses a request for another namespace (403)', async () => {
  const response = await call('/decode', {
    headers: { ...auth, 'x-namespace': 'someone-else' },
    body: body([defaultPayloadConverter.toPayload(PERSON)]),
  });
  expect(response.status).toBe(403);
  expect(JSON.parse(response.text)).toEqual({ error: expect.any(String) });
});

test('issue 16: `jc-notion codec-server` serves on the port it reports and refuses to start without CODEC_SERVER_TOKEN', async () => {
  const keys = `k1:${randomBytes(32).toString('base64')}`;
  const child = spawnCli(
    ['codec-server', '--port', '0', '--json'],
    cleanEnv({ PAYLOAD_ENCRYPTION_KEYS: keys, CODEC_SERVER_TOKEN: TOKEN }),
  );
  try {
    const output = await waitForOutput(child, /^\}$/m, 60_000);
    expect(output).not.toContain(TOKEN);
    const started = JSON.parse(output) as { url: string; port: number; ready: boolean; namespace: string };
    expect(started).toMatchObject({
      ready: true,
      namespace: 'default',
      allowedOrigin: 'http://127.0.0.1:8233',
    });
    expect(started.port).toBeGreaterThan(0);
    expect(started.url).toBe(`http://127.0.0.1:${started.port}`);
    const refused = await request(`${started.url}/decode`, { method: 'POST', body: '{"payloads":[]}' });
    await refused.body.dump();
    expect(refused.statusCode).toBe(401);
  } finally {
    if (child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
  expect(child.exitCode).toBe(0);

  const result = await runCli(
    ['codec-server', '--port', '0'],
    cleanEnv({
      PAYLOAD_ENCRYPTION_KEYS: keys,
      CODEC_SERVER_TOKEN: undefined,
      CODEC_SERVER_TOKEN_FILE: undefined,
    }),
  );
  expect(result.code).not.toBe(0);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^jc-notion: .*CODEC_SERVER_TOKEN/);
  expect(result.stderr + result.stdout).not.toContain(keys.slice(3));
});
