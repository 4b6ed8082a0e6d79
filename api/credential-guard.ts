/**
 * SPEC C3: the circuit breaker in front of one service's credentials, shared by every client of a
 * worker process. Once the service rejects the credentials (401/403, after the service-specific
 * refinements that tell the token owner or an unverified domain apart), every request fails at
 * once without reaching the network, as a `credentials` error whose `retryAfterMs` is the time
 * to the next probe. One request per probe interval goes through (half-open); the first answer
 * that is not a rejection closes the breaker. So a dead token costs one request per worker per
 * interval, not one per entity, and activities retry by themselves once it works again.
 */
import { ApiError, type ApiErrorInfo, type ApiService } from './errors';

export const DEFAULT_PROBE_INTERVAL_MS = 30_000;

export interface Rejection {
  service: ApiService;
  /** When the breaker opened (ISO time). */
  since: string;
  /** What the service answered (status and its explanation; never a secret). */
  detail: string;
}

export interface CredentialGuardOptions {
  probeIntervalMs?: number;
  /** Called when the breaker opens (not for each rejected request). */
  onReject?: (rejection: Rejection) => void;
  /** Called when it closes again. */
  onRecover?: (service: ApiService) => void;
  now?: () => number;
}

export class CredentialGuard {
  private rejection: Rejection | undefined;
  private nextProbeAt = 0;
  readonly probeIntervalMs: number;
  private readonly now: () => number;

  constructor(
    readonly service: ApiService,
    private readonly options: CredentialGuardOptions = {},
  ) {
    this.probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  /** The open rejection, if any. */
  get rejected(): Rejection | undefined {
    return this.rejection;
  }

  /**
   * Before a request: throws while the breaker is open, except for one probe per interval.
   * `probe` requests (credential checks) always go through.
   */
  admit(request: { operation: string; entity?: string; probe?: boolean }): void {
    if (!this.rejection || request.probe) return;
    const now = this.now();
    if (now >= this.nextProbeAt) {
      this.nextProbeAt = now + this.probeIntervalMs;
      return;
    }
    throw new ApiError({
      service: this.service,
      operation: request.operation,
      entity: request.entity,
      class: 'credentials',
      code: 'CredentialsRejected',
      detail: `credentials rejected since ${this.rejection.since} (${this.rejection.detail}); requests are paused until a probe succeeds`,
      retryAfterMs: this.nextProbeAt - now,
    });
  }

  /**
   * How long a request the service has just refused should wait before its next attempt: until the
   * next probe. Every rejection carries it, so no caller falls back to an exponential backoff and
   * oversleeps the recovery (issue 12).
   */
  retryDelayMs(): number {
    return Math.max(0, this.nextProbeAt - this.now());
  }

  /** After an answer: a rejection opens the breaker; anything else the service answered closes it. */
  observe(info: ApiErrorInfo | undefined): void {
    if (info?.class === 'credentials') {
      if (!this.rejection) {
        const detail = [info.status, info.detail ?? 'credentials rejected'].filter(Boolean).join(' ');
        this.rejection = { service: this.service, since: new Date(this.now()).toISOString(), detail };
        this.options.onReject?.(this.rejection);
      }
      this.nextProbeAt = this.now() + this.probeIntervalMs;
      return;
    }
    // A network failure proves nothing about the credentials.
    if (info && info.status === undefined) return;
    if (this.rejection) {
      this.rejection = undefined;
      this.options.onRecover?.(this.service);
    }
  }
}
