/**
 * The HTTP layer both API clients share: one undici keep-alive pool per service, connect/headers/
 * body timeouts, JSON bodies, zod validation of every response, and errors mapped to the taxonomy
 * of `./errors`. Credentials are asked for on every request, so a rotated secret is picked up by
 * the next one.
 */
import { errors as undiciErrors, Pool, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type { CredentialGuard } from './credential-guard';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeIssue } from './listing';
import { ApiError, classifyStatus, parseRetryAfter, type ApiErrorInfo, type ApiService } from './errors';

export interface HttpTimeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
}

/** SCIM and JumpCloud answers are small: a request takes at most ~40 s, inside an activity's 45 s. */
export const DEFAULT_TIMEOUTS: HttpTimeouts = { connectMs: 10_000, headersMs: 15_000, bodyMs: 15_000 };

export interface ServiceErrorDetail {
  detail?: string;
  scimType?: string;
}

export interface HttpServiceOptions {
  service: ApiService;
  /** e.g. `https://api.notion.com/scim/v2`: requests' paths are appended to it. */
  baseUrl: string;
  /** Headers carrying credentials, read at each request (secrets are never stored here). */
  authHeaders: () => Record<string, string>;
  /** Extracts the service's explanation from an error body. */
  errorDetail: (body: unknown) => ServiceErrorDetail;
  /** Service-specific refinements of a failure (e.g. Notion's unverified domains). */
  refine?: (info: ApiErrorInfo) => ApiErrorInfo;
  timeouts?: Partial<HttpTimeouts>;
  /** Awaited before every request: a rate limiter's permit, for bulk reads. */
  beforeRequest?: () => Promise<void>;
  /** C3: the circuit breaker on this service's credentials (shared by a process's clients). */
  guard?: CredentialGuard;
  /**
   * C2: asked before every request that changes something (any method but GET): why it may not
   * be sent now (the connector was deactivated), or undefined when it may.
   */
  writeGate?: WriteGate;
  contentType?: string;
  connections?: number;
  /** How pages of listings (`HttpRequest.page`) are retried inside the client; default: not. */
  retry?: { attempts: number; maxDelayMs?: number; onWait?: (delayMs: number) => void };
  /** Issue 17: told every request's outcome (its status, or `network`), for the worker's metrics. */
  onResponse?: ResponseObserver;
}

/** C2: why a write may not be sent now, or undefined when it may. */
export type WriteGate = () => Promise<string | undefined>;

export type ResponseObserver = (service: ApiService, status: number | 'network') => void;

export interface HttpRequest<T> {
  operation: string;
  entity?: string;
  method: Dispatcher.HttpMethod;
  /** Path below the base URL, e.g. `/Users/123`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Validates the response body (for statuses in `accept`). */
  schema: z.ZodType<T>;
  /** Statuses that are not errors (default: any 2xx). */
  accept?: number[];
  /** A credentials check: goes through even while the credential guard is open (C1, C3 probes). */
  probe?: boolean;
  /**
   * A page of a listing: a retryable failure is tried again here (the service's `retry`,
   * `Retry-After` honoured) so that one failed request does not start the whole listing again
   * (issue 15). Each attempt takes its own permit.
   */
  page?: boolean;
}

export interface HttpResponse<T> {
  status: number;
  data: T;
  headers: Record<string, string | string[] | undefined>;
}

export class HttpService {
  private readonly pool: Pool;
  private readonly prefix: string;
  private readonly timeouts: HttpTimeouts;

  constructor(private readonly options: HttpServiceOptions) {
    const url = new URL(options.baseUrl);
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 16,
      keepAliveTimeout: 30_000,
      connect: { timeout: this.timeouts.connectMs },
      headersTimeout: this.timeouts.headersMs,
      bodyTimeout: this.timeouts.bodyMs,
    });
  }

  async request<T>(request: HttpRequest<T>): Promise<HttpResponse<T>> {
    const attempts = request.page ? (this.options.retry?.attempts ?? 1) : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(request);
      } catch (error) {
        if (attempt >= attempts || !(error instanceof ApiError) || error.info.class !== 'retryable')
          throw error;
        const maxDelayMs = this.options.retry?.maxDelayMs ?? 30_000;
        // A longer Retry-After is the activity's to wait (nextRetryDelay), not a silent sleep here.
        if ((error.info.retryAfterMs ?? 0) > maxDelayMs) throw error;
        const delayMs = retryDelay(error.info.retryAfterMs, attempt, maxDelayMs);
        this.options.retry?.onWait?.(delayMs);
        await sleep(delayMs);
      }
    }
  }

  private async attempt<T>(request: HttpRequest<T>): Promise<HttpResponse<T>> {
    const fail = (info: Omit<ApiErrorInfo, 'service' | 'operation' | 'entity'>): never => {
      const full: ApiErrorInfo = {
        service: this.options.service,
        operation: request.operation,
        entity: request.entity,
        ...info,
      };
      const refined = this.options.refine ? this.options.refine(full) : full;
      const { guard } = this.options;
      guard?.observe(refined);
      // C3: a rejection waits for the next probe like the requests the open guard turns away.
      if (guard && refined.class === 'credentials' && refined.retryAfterMs === undefined)
        throw new ApiError({ ...refined, retryAfterMs: guard.retryDelayMs() });
      throw new ApiError(refined);
    };
    this.options.guard?.admit(request);
    if (request.method !== 'GET' && this.options.writeGate) {
      // Refused before the network: this says nothing about the credentials (not observed).
      const refusal = await this.options.writeGate();
      if (refusal !== undefined)
        throw new ApiError({
          service: this.options.service,
          operation: request.operation,
          entity: request.entity,
          class: 'permanent',
          code: 'ConnectorNotActivated',
          detail: refusal,
        });
    }
    await this.options.beforeRequest?.();

    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        method: request.method,
        path: this.prefix + request.path + queryString(request.query),
        headers: {
          accept: 'application/json',
          ...(request.body !== undefined
            ? { 'content-type': this.options.contentType ?? 'application/json' }
            : {}),
          ...this.options.authHeaders(),
        },
        body: request.body !== undefined ? JSON.stringify(request.body) : undefined,
      });
    } catch (error) {
      this.options.onResponse?.(this.options.service, 'network');
      return fail(networkFailure(error));
    }

    const { statusCode: status } = response;
    this.options.onResponse?.(this.options.service, status);
    const headers = response.headers;
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      return fail(networkFailure(error));
    }
    const body = parseJson(text);
    const accepted = request.accept ? request.accept.includes(status) : status >= 200 && status < 300;
    if (!accepted) {
      const base = classifyStatus(status);
      const { detail, scimType } = this.options.errorDetail(body);
      const retryable = base.class === 'retryable' || status === 503;
      return fail({
        ...base,
        status,
        detail: detail ?? (text && body === undefined ? text.slice(0, 200) : undefined),
        scimType,
        retryAfterMs: retryable ? parseRetryAfter(headers['retry-after']) : undefined,
      });
    }
    const parsed = request.schema.safeParse(body === undefined && text === '' ? undefined : body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      // One entity's record that does not fit (an unknown `state`…): reading it again will not
      // mend it, so it is that entity's error (U9), not a retry without end (issue 15).
      if (request.method === 'GET' && request.entity && isRecord(body))
        return fail({
          class: 'permanent',
          code: 'InvalidRecord',
          status,
          detail: `unreadable record: ${describeIssue(parsed.error)}`,
        });
      return fail({
        class: 'retryable',
        code: 'InvalidResponse',
        status,
        detail: `unexpected response: ${issue ? `${issue.path.join('.') || '(body)'} ${issue.message}` : 'invalid'}`,
      });
    }
    this.options.guard?.observe(undefined);
    return { status, data: parsed.data, headers };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** Retry-After when the service gave one, else 0.5 s doubling per attempt, with jitter. */
function retryDelay(retryAfterMs: number | undefined, attempt: number, maxMs: number): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const base = Math.min(maxMs, 500 * 2 ** (attempt - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

function isRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function queryString(query: HttpRequest<unknown>['query']): string {
  if (!query) return '';
  const parts = Object.entries(query)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Network-level failures are retryable; timeouts are named as such. */
function networkFailure(error: unknown): Omit<ApiErrorInfo, 'service' | 'operation' | 'entity'> {
  const timeout =
    error instanceof undiciErrors.ConnectTimeoutError ||
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError;
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return {
    class: 'retryable',
    code: timeout ? 'Timeout' : 'Network',
    detail: `${timeout ? 'timed out' : 'network error'}${code ? ` ${code}` : ''}: ${message}`,
  };
}
