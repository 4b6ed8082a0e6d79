/**
 * C3, the connector's credentials state machine: `ok` → `rejected` when a worker reports a
 * service's credentials rejected; `rejected` → `ok` when a probe (or C1's verification) finds every
 * rejected service working again. Pure: the connector workflow runs the probes and sends the
 * alerts these functions describe.
 */
import type { CredentialsStatus, RejectedService } from '../contracts/connector';

export const DEFAULT_PROBE_INTERVAL_MS = 30_000;

export interface Alert {
  subject: string;
  text: string;
}

export interface RejectionReport extends RejectedService {
  probeIntervalMs: number;
}

const SERVICE_NAMES: Record<RejectedService['service'], string> = {
  notion: 'Notion SCIM token',
  jumpcloud: 'JumpCloud API key',
};

/**
 * A worker reports a rejection. Ignored before activation (C1's verification tells the admin
 * directly) and when the service is already known to be rejected (another worker saw it too).
 */
export function onCredentialsRejected(
  current: CredentialsStatus | undefined,
  report: RejectionReport,
  activated: boolean,
): { credentials: CredentialsStatus; alert: Alert } | undefined {
  if (!activated) return undefined;
  const credentials = current ?? { state: 'ok', rejected: [] };
  if (credentials.rejected.some((r) => r.service === report.service)) return undefined;
  const { service, since, detail, probeIntervalMs } = report;
  const name = SERVICE_NAMES[service];
  return {
    credentials: {
      ...credentials,
      state: 'rejected',
      rejected: [...credentials.rejected, { service, since, detail }],
      probeIntervalMs,
    },
    alert: {
      subject: `credentials rejected: ${name}`,
      text: [
        `The ${name} was rejected (${detail}) at ${since}.`,
        credentials.state === 'ok'
          ? 'Requests to this service are paused on every worker; nothing is retried entity by entity.'
          : '',
        `The connector tries the credentials again every ${Math.round(probeIntervalMs / 1000)} s and resumes by itself once they work:`,
        service === 'notion'
          ? "replace NOTION_SCIM_TOKEN in the workers' environment (a new token is used by the next request)."
          : "replace JUMPCLOUD_API_KEY in the workers' environment (a new key is used by the next request).",
      ]
        .filter(Boolean)
        .join('\n'),
    },
  };
}

/** The outcome of one probe round: the services still rejected, with their latest reason. */
export function afterProbe(
  credentials: CredentialsStatus,
  stillRejected: RejectedService[],
  at: string,
): { credentials: CredentialsStatus; recovered: boolean } {
  if (stillRejected.length > 0)
    return { credentials: { ...credentials, rejected: stillRejected, lastProbeAt: at }, recovered: false };
  return {
    credentials: { ...credentials, state: 'ok', rejected: [], lastProbeAt: at, recoveredAt: at },
    recovered: true,
  };
}

/** C1 verified both credentials: a rejection on record is over. */
export function afterVerification(
  credentials: CredentialsStatus | undefined,
  at: string,
): CredentialsStatus | undefined {
  if (credentials?.state !== 'rejected') return credentials;
  return { ...credentials, state: 'ok', rejected: [], recoveredAt: at };
}

export function recoveryAlert(at: string, catchUpStarted: boolean): Alert {
  return {
    subject: 'credentials accepted again',
    text: [
      `The credentials work again (checked at ${at}); requests have resumed.`,
      catchUpStarted ? 'A reconciliation has started to catch up on anything the outage held up.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  };
}

/** When to probe next, from a probe or a rejection at `now`. */
export function nextProbeAt(credentials: CredentialsStatus, now: number): number {
  return now + (credentials.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS);
}
