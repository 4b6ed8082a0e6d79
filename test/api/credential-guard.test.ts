/** C3: the credential guard (api/credential-guard.ts), on a fake clock. */
import { CredentialGuard } from '../../api/credential-guard';
import { ApiError, type ApiErrorInfo } from '../../api/errors';

const rejection: ApiErrorInfo = {
  service: 'notion',
  operation: 'read user',
  class: 'credentials',
  code: 'CredentialsRejected',
  status: 401,
  detail: 'invalid token',
};

function setup() {
  let now = 1_000_000;
  const events: string[] = [];
  const guard = new CredentialGuard('notion', {
    probeIntervalMs: 30_000,
    now: () => now,
    onReject: (r) => events.push(`reject ${r.detail}`),
    onRecover: () => events.push('recover'),
  });
  return { guard, events, advance: (ms: number) => (now += ms) };
}

const request = { operation: 'read user', entity: 'ann@example.com' };

test('C3: a rejection opens the guard once; requests then fail at once with the wait until the next probe', () => {
  const { guard, events, advance } = setup();
  guard.admit(request);
  guard.observe(rejection);
  guard.observe(rejection); // another request in flight: still one alert
  expect(events).toEqual(['reject 401 invalid token']);
  advance(10_000);
  let thrown: unknown;
  try {
    guard.admit(request);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ApiError);
  expect((thrown as ApiError).info).toMatchObject({
    class: 'credentials',
    code: 'CredentialsRejected',
    retryAfterMs: 20_000,
  });
  expect((thrown as ApiError).message).toMatch(/requests are paused until a probe succeeds/);
});

test('C3: one request per interval goes through (half-open); a success closes the guard', () => {
  const { guard, events, advance } = setup();
  guard.observe(rejection);
  advance(30_000);
  expect(() => guard.admit(request)).not.toThrow(); // the probe
  expect(() => guard.admit(request)).toThrow(ApiError); // everyone else still waits
  guard.observe(undefined);
  expect(guard.rejected).toBeUndefined();
  expect(() => guard.admit(request)).not.toThrow();
  expect(events).toEqual(['reject 401 invalid token', 'recover']);
});

test('C3: credential checks always go through; network failures and permanent errors of other kinds do not open it', () => {
  const { guard } = setup();
  guard.observe({ ...rejection, class: 'retryable', code: 'Network', status: undefined });
  guard.observe({ ...rejection, class: 'permanent', code: 'TokenOwner', status: 403 });
  expect(guard.rejected).toBeUndefined();
  guard.observe(rejection);
  expect(() => guard.admit({ ...request, probe: true })).not.toThrow();
  // A network failure while open proves nothing: it stays open.
  guard.observe({ ...rejection, class: 'retryable', code: 'Network', status: undefined });
  expect(guard.rejected).toBeDefined();
});
