/**
 * An activity's heartbeats (issue 15). Temporal keeps only the last heartbeat's details, and a
 * retried attempt reads them to resume (a reconciliation's listing checkpoint), so a bare
 * liveness beat would erase them. Every heartbeat of the product goes through here (a lint rule
 * says so): `reportProgress` records details, `keepAlive` repeats the last ones recorded — or,
 * before this attempt recorded any, the ones its predecessor left.
 */
import { Context } from '@temporalio/activity';

const recorded = new WeakMap<Context, unknown>();

/** Heartbeats with `details`, which later liveness beats repeat. */
export function reportProgress(details: unknown): void {
  const context = Context.current();
  recorded.set(context, details);
  context.heartbeat(details);
}

/** Heartbeats without changing the details the server holds. */
export function keepAlive(): void {
  const context = Context.current();
  context.heartbeat(recorded.has(context) ? recorded.get(context) : context.info.heartbeatDetails);
}
