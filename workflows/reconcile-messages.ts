/** Messages of the reconcile workflow, importable by its activity. */
import { defineUpdate } from '@temporalio/workflow';

/**
 * A request permit for the reconcile activity's bulk reads (ADR 0004): the handler runs a no-op
 * activity on the service's rate-limited task queue, so the server's cluster-wide limit paces
 * bulk reads and single requests alike.
 */
export const requestPermitUpdate = defineUpdate<void, ['notion' | 'jumpcloud']>('requestPermit');
