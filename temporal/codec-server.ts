/**
 * Issue 16: a payload codec server, so that the Temporal Web UI and the `temporal` CLI can show
 * encrypted payloads in clear to whoever holds the token. The protocol is Temporal's: POST
 * `<endpoint>/decode` and `<endpoint>/encode` with `{"payloads":[{metadata,data}]}` in proto JSON
 * (bytes as base64), the same shape back. Node's `http` only: the product image ships no web
 * framework.
 *
 * The endpoint is `/` (token in `Authorization: Bearer …`) or `/<token>` (a capability URL, for a
 * UI that cannot send a header of ours). Decoded payloads are personal data: they are never logged,
 * never cached, and served to the one allowed browser origin only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The bearer token every request must present (`CODEC_SERVER_TOKEN`). */
  token: string;
  /** The one browser origin allowed (the Temporal Web UI's), e.g. `http://127.0.0.1:8233`. */
  allowedOrigin: string;
  /** The one namespace served: a request whose `X-Namespace` names another is refused. */
  namespace: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
}

export interface CodecServer {
  /** `http://host:port`, without the token. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

const CORS_HEADERS = {
  'Access-Control-Allow-Credentials': 'true',
  'Access-Control-Allow-Headers': 'authorization, content-type, x-namespace',
  'Access-Control-Allow-Methods': 'POST, OPTIONS',
  'Access-Control-Max-Age': '600',
};

// Proto JSON bytes: standard or URL-safe base64, padding optional.
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, { message: 'must be base64' });

const requestSchema = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), base64).nullish(),
      data: base64.nullish(),
    }),
  ),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Constant time whatever the lengths: digests are compared, never the texts. */
function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
const text64 = (value: Uint8Array | null | undefined) =>
  Buffer.from(value ?? new Uint8Array()).toString('base64');

function toPayloads(body: z.output<typeof requestSchema>): Payload[] {
  return body.payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([key, value]) => [key, bytes(value)])),
    data: bytes(p.data ?? ''),
  }));
}

function fromPayloads(payloads: Payload[]): {
  payloads: { metadata: Record<string, string>; data: string }[];
} {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([key, value]) => [key, text64(value)]),
      ),
      data: text64(p.data),
    })),
  };
}

/** Reads the body up to MAX_BODY_BYTES; 413 beyond, without buffering the rest. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES)
    return Promise.reject(new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        reject(new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function parseBody(raw: Buffer): z.output<typeof requestSchema> {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON (expected {"payloads":[{"metadata":{…},"data":"…"}]})');
  }
  const result = requestSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new HttpError(
      400,
      `invalid body: ${issue.path.join('.') || '(body)'} ${issue.message} (expected {"payloads":[{"metadata":{…},"data":"…"}]})`,
    );
  }
  return result.data;
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const { codec, allowedOrigin, namespace } = options;
  const expected = digest(options.token);
  const route = /^\/(?:([^/]+)\/)?(decode|encode)$/;

  /** The credential of a request: the path's capability if there is one, else the bearer token. */
  function authorize(req: IncomingMessage, pathToken: string | undefined): void {
    const challenge = { 'WWW-Authenticate': 'Bearer' };
    let given: string | undefined;
    if (pathToken !== undefined) {
      // Authorization is ignored then: the UI may send its own access token in it.
      try {
        given = decodeURIComponent(pathToken);
      } catch {
        given = pathToken;
      }
    } else {
      const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      if (!req.headers.authorization)
        throw new HttpError(
          401,
          'authorization required: Authorization: Bearer <CODEC_SERVER_TOKEN>',
          challenge,
        );
      given = match?.[1];
    }
    if (given === undefined || !sameSecret(given, expected))
      throw new HttpError(401, 'invalid credentials', challenge);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    // A browser page of another origin gets nothing, not even whether its token was right.
    if (origin !== undefined && origin !== allowedOrigin)
      throw new HttpError(403, 'this origin is not allowed to use the codec server');
    if (origin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', allowedOrigin);
      res.setHeader('Vary', 'Origin');
      for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
    }

    const pathname = (req.url ?? '/').split('?')[0]!;
    const match = route.exec(pathname);
    if (!match) throw new HttpError(404, 'not found: POST /decode or /encode');
    // Browsers send no credentials on a preflight.
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') throw new HttpError(404, 'not found: POST /decode or /encode');

    authorize(req, match[1]);
    const requested = req.headers['x-namespace'];
    if (requested !== undefined && requested !== namespace)
      throw new HttpError(403, `this codec server serves namespace "${namespace}" only`);

    const payloads = toPayloads(parseBody(await readBody(req)));
    let result: Payload[];
    if (match[2] === 'decode') {
      try {
        result = await codec.decode(payloads);
      } catch (error) {
        // The codec's messages name key ids, never contents.
        throw new HttpError(400, `cannot decode: ${error instanceof Error ? error.message : String(error)}`);
      }
    } else {
      result = await codec.encode(payloads);
    }
    send(res, 200, fromPayloads(result));
  }

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, {
      ...headers,
      'Content-Type': 'application/json; charset=utf-8',
      // Decoded payloads are personal data: no cache keeps them.
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(JSON.stringify(body));
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const known = error instanceof HttpError;
      const status = known ? error.status : 500;
      // Unread bodies (refused early, or too large) are not drained: the connection is dropped.
      if (!req.complete) res.setHeader('Connection', 'close');
      send(res, status, { error: known ? error.message : 'internal error' }, known ? error.headers : {});
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections?.();
      }),
  };
}
