/**
 * Every activity of this worker, checked and cleaned at the boundary (issue 16), whatever it is:
 *
 * - It must have been called for this worker's connector: a workflow's id names its connector
 *   (`jcn/<connector>/…`), and an activity of another connector's workflow (a queue shared by a
 *   misconfiguration, an old worker) fails at once and for good, before any request is sent.
 * - The connector must have been activated for this worker's JumpCloud application: a worker
 *   started with another connector's credentials would read the wrong directory and write to
 *   the wrong workspace. The connector's record is asked once a minute per process.
 * - A failure leaving the activity is scrubbed of every secret the process holds (a proxy that
 *   echoes a header, a library error quoting a file's content), message, stack, cause and
 *   details, before it reaches workflow history.
 */
import { ApplicationFailure, type Context } from '@temporalio/activity';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  Next,
} from '@temporalio/worker';
import { scrubSecrets } from '../common/logger';
import { causeChain } from '../common/errors';

/** The failure type of an activity refused for belonging to another connector. */
export const WRONG_CONNECTOR = 'WrongConnector';

/** Activities that establish the connector's application: never refused by the application check. */
const VERIFYING = new Set(['notionVerifyCredentials', 'jumpcloudVerifyApplication']);

const CONNECTOR_OF_WORKFLOW = /^jcn\/([a-z0-9-]+)\//;

/** The connector a workflow id names (`jcn/<connector>/…`), if it names one. */
export function connectorOfWorkflow(workflowId: string | undefined): string | undefined {
  return workflowId ? CONNECTOR_OF_WORKFLOW.exec(workflowId)?.[1] : undefined;
}

export interface ActivityGuardOptions {
  connectorId: string;
  /** The JumpCloud application this worker's credentials act for. */
  appId?: string;
  /** The application the connector was activated for (undefined: not known yet); never fails. */
  connectorAppId: () => Promise<string | undefined>;
  /** The secret values to scrub from failures (read at each failure: rotated files count). */
  secrets: () => string[];
}

/**
 * Asks `read` at most once per `ttlMs`. Only the first caller waits for an answer; past the
 * time to live, callers get the last answer while a fresh one is asked (a slow query never holds
 * up every activity). `read` must not fail: map a failure to an answer first.
 */
export function cachedFor<T>(ttlMs: number, read: () => Promise<T>, now: () => number = Date.now) {
  let last: Promise<T> | undefined;
  let askedAt = 0;
  let asking = false;
  return (): Promise<T> => {
    if (!last) {
      askedAt = now();
      last = read();
    } else if (now() - askedAt > ttlMs && !asking) {
      askedAt = now();
      asking = true;
      const fresh = read();
      void fresh.then((value) => {
        last = Promise.resolve(value);
        asking = false;
      });
    }
    return last;
  };
}

class ActivityGuard implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly context: Context,
    private readonly options: ActivityGuardOptions,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
    try {
      await this.check();
      return await next(input);
    } catch (error) {
      throw scrubFailure(error, this.options.secrets());
    }
  }

  private async check(): Promise<void> {
    const { info } = this.context;
    const workflowId = info.workflowExecution?.workflowId;
    const calledFor = connectorOfWorkflow(workflowId);
    const { connectorId, appId } = this.options;
    if (calledFor !== connectorId)
      throw ApplicationFailure.create({
        type: WRONG_CONNECTOR,
        nonRetryable: true,
        message:
          calledFor === undefined
            ? `this worker serves connector "${connectorId}" only; ${info.activityType} was called by a workflow of no connector (${workflowId ?? 'none'})`
            : `this worker serves connector "${connectorId}", not "${calledFor}": ${info.activityType} refused (check CONNECTOR_ID and TEMPORAL_TASK_QUEUE)`,
      });
    if (VERIFYING.has(info.activityType) || appId === undefined) return;
    const activatedFor = await this.options.connectorAppId();
    if (activatedFor !== undefined && activatedFor !== appId)
      throw ApplicationFailure.create({
        type: WRONG_CONNECTOR,
        nonRetryable: true,
        message: `connector "${connectorId}" was activated for JumpCloud application ${activatedFor}, but this worker holds the credentials of application ${appId}: ${info.activityType} refused (check CONNECTOR_ID, JUMPCLOUD_APP_ID and the credentials of this worker)`,
      });
  }
}

/** The interceptor factory for a worker's activities. */
export function activityGuard(options: ActivityGuardOptions): ActivityInterceptorsFactory {
  return (context) => ({ inbound: new ActivityGuard(context, options) });
}

/** The same error with every secret replaced in its message, stack and details, and its causes'. */
export function scrubFailure(error: unknown, secrets: readonly string[]): unknown {
  const scrub = (text: string) => scrubSecrets(text, secrets);
  // Every cause, however deep: a depth limit would let a secret through below it.
  for (const cause of causeChain(error)) {
    if (!(cause instanceof Error)) continue;
    cause.message = scrub(cause.message);
    if (cause.stack) cause.stack = scrub(cause.stack);
    if (cause instanceof ApplicationFailure && cause.details) {
      (cause as { details?: unknown[] }).details = scrubSecrets(cause.details, secrets);
    }
  }
  return error;
}
