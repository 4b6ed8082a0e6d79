/** C3's state machine, pure: rejection, probes, recovery, and what each alert says. */
import type { CredentialsStatus } from '../../contracts/connector';
import {
  afterProbe,
  afterVerification,
  nextProbeAt,
  onCredentialsRejected,
  recoveryAlert,
} from '../../workflows/credentials-state';

const notionRejected = {
  service: 'notion' as const,
  since: '2026-12-02T10:00:00Z',
  detail: 'HTTP 401',
  probeIntervalMs: 20_000,
};

describe('C3: credentials rejected', () => {
  test('C3: a rejection before activation is left to C1 (no state, no alert)', () => {
    expect(onCredentialsRejected(undefined, notionRejected, false)).toBeUndefined();
  });

  test('C3: the first rejection pauses the service and alerts once, naming the variable to replace', () => {
    const change = onCredentialsRejected(undefined, notionRejected, true)!;
    expect(change.credentials).toEqual({
      state: 'rejected',
      rejected: [{ service: 'notion', since: notionRejected.since, detail: 'HTTP 401' }],
      probeIntervalMs: 20_000,
    });
    expect(change.alert.subject).toBe('credentials rejected: Notion SCIM token');
    expect(change.alert.text).toContain('paused on every worker');
    expect(change.alert.text).toContain('every 20 s');
    expect(change.alert.text).toContain('NOTION_SCIM_TOKEN');
  });

  test('C3: a second worker reporting the same service changes nothing; another service is added', () => {
    const first = onCredentialsRejected(undefined, notionRejected, true)!.credentials;
    expect(onCredentialsRejected(first, { ...notionRejected, detail: 'HTTP 403' }, true)).toBeUndefined();
    const both = onCredentialsRejected(first, { ...notionRejected, service: 'jumpcloud' }, true)!;
    expect(both.credentials.rejected.map((r) => r.service)).toEqual(['notion', 'jumpcloud']);
    expect(both.alert.subject).toBe('credentials rejected: JumpCloud API key');
    expect(both.alert.text).toContain('JUMPCLOUD_API_KEY');
    expect(both.alert.text).not.toContain('paused on every worker'); // said once, by the first
  });
});

describe('C3: probes and recovery', () => {
  const rejected: CredentialsStatus = onCredentialsRejected(undefined, notionRejected, true)!.credentials;

  test('C3: a probe that still fails keeps the service rejected with its latest reason', () => {
    const outcome = afterProbe(rejected, [{ ...rejected.rejected[0]!, detail: 'HTTP 403' }], 'T1');
    expect(outcome.recovered).toBe(false);
    expect(outcome.credentials).toMatchObject({ state: 'rejected', lastProbeAt: 'T1' });
    expect(outcome.credentials.rejected[0]?.detail).toBe('HTTP 403');
  });

  test('C3: when every rejected service works again the connector recovers', () => {
    const outcome = afterProbe(rejected, [], 'T2');
    expect(outcome).toEqual({
      recovered: true,
      credentials: {
        state: 'ok',
        rejected: [],
        probeIntervalMs: 20_000,
        lastProbeAt: 'T2',
        recoveredAt: 'T2',
      },
    });
    expect(recoveryAlert('T2', true).text).toContain('A reconciliation has started');
    expect(recoveryAlert('T2', false).text).not.toContain('reconciliation');
  });

  test('C3: probes come every probe interval, 30 s when none was reported', () => {
    expect(nextProbeAt(rejected, 1_000)).toBe(21_000);
    expect(nextProbeAt({ state: 'rejected', rejected: [] }, 1_000)).toBe(31_000);
  });

  test('C1/C3: a successful verification ends a rejection on record, and leaves ok alone', () => {
    expect(afterVerification(rejected, 'T3')).toMatchObject({ state: 'ok', rejected: [], recoveredAt: 'T3' });
    const ok: CredentialsStatus = { state: 'ok', rejected: [] };
    expect(afterVerification(ok, 'T3')).toBe(ok);
    expect(afterVerification(undefined, 'T3')).toBeUndefined();
  });
});
