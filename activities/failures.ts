/**
 * API errors as Temporal failures: retryable ones keep Temporal's retry policy, with
 * `nextRetryDelay` honouring `Retry-After`; permanent ones are non-retryable, with the error code
 * as the failure `type` the workflows switch on. Rejected credentials (C3) are retried no sooner
 * than the credential guard's next probe, so entities wait for the credentials to work again
 * instead of failing one by one; credential checks (C1, the C3 probe) report them at once.
 * Messages come from ApiError, which never holds a secret.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { DEFAULT_PROBE_INTERVAL_MS } from '../api/credential-guard';
import { ApiError } from '../api/errors';

/** Failure types that mean "stop the flow", not "this entity failed" (SPEC C3). */
export const CREDENTIALS_REJECTED = 'CredentialsRejected';

export interface FailureOptions {
  /** Rejected credentials are the answer (a credentials check), not a reason to wait and retry. */
  credentialsFinal?: boolean;
}

export function toFailure(error: unknown, options: FailureOptions = {}): unknown {
  if (!(error instanceof ApiError)) return error;
  const { info } = error;
  const details = [
    {
      service: info.service,
      operation: info.operation,
      entity: info.entity,
      status: info.status,
      code: info.code,
      class: info.class,
      detail: info.detail,
    },
  ];
  return ApplicationFailure.create({
    type: info.code,
    message: error.message,
    nonRetryable:
      info.class === 'permanent' || (info.class === 'credentials' && Boolean(options.credentialsFinal)),
    // Rejected credentials never fall back to the exponential backoff: after a long outage it
    // would have grown to minutes, and a change made meanwhile would wait that long after the
    // credentials work again (issue 12).
    nextRetryDelay:
      info.retryAfterMs ?? (info.class === 'credentials' ? DEFAULT_PROBE_INTERVAL_MS : undefined),
    details,
  });
}

/** Runs an activity body, converting API errors on the way out. */
export async function mapFailures<T>(fn: () => Promise<T>, options: FailureOptions = {}): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toFailure(error, options);
  }
}
