/**
 * C3 in the connector workflow: a worker reports rejected credentials (signal); the connector
 * alerts once, probes each rejected service every probe interval through the same checks as C1,
 * and on recovery alerts again and starts a catch-up reconciliation. The state machine itself is
 * pure (credentials-state.ts).
 */
import { patched, setHandler } from '@temporalio/workflow';
import { credentialsRejectedSignal, type RejectedService } from '../contracts/connector';
import type { ConnectorContext } from './connector-context';
import { afterProbe, nextProbeAt, onCredentialsRejected, recoveryAlert } from './credentials-state';
import { failureMessage } from './entity';
import { STEPS } from './summaries';

export interface Timed {
  /** When the next step is due (ms since epoch), or undefined while nothing is. */
  dueAt(): number | undefined;
  /** Does what is due at `now`. */
  run(now: number): Promise<void>;
}

export function handleCredentials(ctx: ConnectorContext): Timed {
  const { state } = ctx;
  let probeAt = 0;
  setHandler(credentialsRejectedSignal, (report) => {
    const change = onCredentialsRejected(state.credentials, report, state.activated);
    if (!change) return;
    state.credentials = change.credentials;
    probeAt = Date.now() + report.probeIntervalMs;
    ctx.alerts.push(change.alert);
  });

  /** One request per rejected service; the connector resumes when all of them work again. */
  async function probe(): Promise<void> {
    const credentials = state.credentials;
    if (!credentials || credentials.state !== 'rejected') return;
    const still: RejectedService[] = [];
    for (const rejected of credentials.rejected) {
      try {
        // The same checks as activation (C1): they go through the open guard.
        if (rejected.service === 'notion')
          await ctx.notion.notionVerifyCredentials.executeWithOptions(
            { summary: STEPS.connector.verifyNotion() },
            [],
          );
        else
          await ctx.jumpcloud.jumpcloudVerifyApplication.executeWithOptions(
            { summary: STEPS.connector.verifyJumpCloud() },
            [],
          );
      } catch (error) {
        still.push({ ...rejected, detail: failureMessage(error) });
      }
    }
    const at = new Date().toISOString();
    const outcome = afterProbe(credentials, still, at);
    state.credentials = outcome.credentials;
    if (outcome.recovered) {
      // The paused requests resume by themselves, but a change whose retries ran out during a
      // long outage (an hour) was left to the next reconciliation: catch up now instead.
      const catchUp =
        state.activated && !(await ctx.reconcileInProgress()) && patched('c3-catch-up-reconcile');
      if (catchUp) await ctx.startReconcile(false);
      ctx.alerts.push(recoveryAlert(at, catchUp));
    }
    probeAt = nextProbeAt(credentials, Date.now());
  }

  const rejected = () => state.credentials?.state === 'rejected';
  return {
    dueAt: () => (rejected() ? probeAt : undefined),
    run: async (now) => {
      if (rejected() && now >= probeAt) await probe();
    },
  };
}
