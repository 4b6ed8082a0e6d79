/**
 * The one error taxonomy the API clients produce and the activities act on (DEVELOPERS.md):
 *
 * - `retryable`: network failures, timeouts, 5xx, 429/529/503 (with `Retry-After` as the minimum
 *   wait), listings that do not add up (api/listing.ts). Temporal retries the activity.
 * - `permanent`: this entity cannot be processed as it is (400, final 404, unresolvable 409,
 *   unverified domain, the token owner, a refused deletion; a write the worker refused because
 *   the connector was deactivated, C2). Recorded on the entity, never retried in a loop, never
 *   blocking other entities.
 * - `credentials`: 401/403 — the credentials were rejected; the whole flow stops (SPEC C3).
 *
 * Messages name the service, the operation and the entity, keep the service's `detail`, and never
 * contain a secret (requests' headers are never part of an error).
 */
export type FailureClass = 'retryable' | 'permanent' | 'credentials';

export type ApiService = 'notion' | 'jumpcloud';

/** Stable codes: activities turn them into `ApplicationFailure.type`, workflows switch on them. */
export type ApiErrorCode =
  | 'Network'
  | 'Timeout'
  | 'ServerError'
  | 'RateLimited'
  | 'BadRequest'
  | 'NotFound'
  | 'Conflict'
  | 'UnverifiedDomain'
  | 'TokenOwner'
  | 'GroupDeletionRefused'
  | 'CredentialsRejected'
  | 'InvalidResponse'
  /** An entity's record that does not fit the schema (issue 15): that entity's error (U9), not a retry. */
  | 'InvalidRecord'
  /** A 404 while the Notion application is not found either: a wrong org, a proxy (issue 14). */
  | 'ApplicationNotFound'
  /** A paged listing that did not add up to its total (issue 14): retried, never trusted. */
  | 'IncompleteListing'
  /** C1/C2: a write refused by the worker itself: the connector is not activated (nothing was sent). */
  | 'ConnectorNotActivated';

export interface ApiErrorInfo {
  service: ApiService;
  /** What was being done, e.g. `create user`, `list users`. */
  operation: string;
  /** Which entity, e.g. `ann@example.com` or a Notion id. */
  entity?: string;
  class: FailureClass;
  code: ApiErrorCode;
  status?: number;
  /** The service's own explanation (SCIM `detail`, JumpCloud `message`). */
  detail?: string;
  /** SCIM `scimType`, when given. */
  scimType?: string;
  /** The least time to wait before retrying (from `Retry-After`). */
  retryAfterMs?: number;
}

const SERVICE_NAME: Record<ApiService, string> = { notion: 'Notion SCIM', jumpcloud: 'JumpCloud' };

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly info: ApiErrorInfo) {
    const where = `${SERVICE_NAME[info.service]} ${info.operation}${info.entity ? ` (${info.entity})` : ''}`;
    const what = [
      info.status !== undefined ? String(info.status) : undefined,
      info.scimType,
      info.detail ?? info.code,
    ].filter(Boolean);
    super(`${where} failed: ${what.join(' ')}`);
  }

  get code(): ApiErrorCode {
    return this.info.code;
  }

  get failureClass(): FailureClass {
    return this.info.class;
  }
}

export function isApiError(error: unknown, code?: ApiErrorCode): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.info.code === code);
}

/**
 * The longest wait a `Retry-After` can impose. A service (or a proxy in front of it) that asks for
 * hours or years would otherwise park every change behind one answer; past this, the activity
 * tries again and the service can ask again.
 */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * `Retry-After` in seconds or as an HTTP date, in milliseconds, at most MAX_RETRY_AFTER_MS;
 * undefined when absent or bad.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  let ms: number;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) ms = Math.round(Number(text) * 1000);
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** The class and code of an HTTP status, before service-specific refinements. */
export function classifyStatus(status: number): { class: FailureClass; code: ApiErrorCode } {
  if (status === 401 || status === 403) return { class: 'credentials', code: 'CredentialsRejected' };
  if (status === 429 || status === 529) return { class: 'retryable', code: 'RateLimited' };
  if (status === 408) return { class: 'retryable', code: 'Timeout' };
  if (status >= 500) return { class: 'retryable', code: 'ServerError' };
  if (status === 404) return { class: 'permanent', code: 'NotFound' };
  if (status === 409) return { class: 'permanent', code: 'Conflict' };
  return { class: 'permanent', code: 'BadRequest' };
}
