/**
 * The workflows a worker runs (its `workflowsPath`). Deterministic orchestration only.
 *
 * Issue 18: each workflow evaluates its own modules only. The worker evaluates the bundle's
 * modules again for every workflow it starts or replays (ADR 0018), from this one down; re-exports
 * made each of thousands of user workflows evaluate (and keep, while cached) the connector's, the
 * feed's, the import's… modules too. Each export here is the workflow's own function, loaded
 * when the workflow first runs: same name (the workflow type), same signature.
 */
import type * as Connector from './connector';
import type * as Feed from './feed';
import type * as Group from './group';
import type * as Import from './import';
import type * as Pacer from './pacer';
import type * as Reconcile from './reconcile';
import type * as User from './user';

/* eslint-disable @typescript-eslint/no-require-imports -- a module evaluated on first use, per workflow */
const connector = () => require('./connector') as typeof Connector;
const feed = () => require('./feed') as typeof Feed;
const group = () => require('./group') as typeof Group;
const imports = () => require('./import') as typeof Import;
const pacer = () => require('./pacer') as typeof Pacer;
const reconcile = () => require('./reconcile') as typeof Reconcile;
const user = () => require('./user') as typeof User;
/* eslint-enable @typescript-eslint/no-require-imports */

type Workflow<F extends (...args: never[]) => unknown> = (...args: Parameters<F>) => ReturnType<F>;

export const connectorWorkflow: Workflow<typeof Connector.connectorWorkflow> = (...args) =>
  connector().connectorWorkflow(...args);
export const feedWorkflow: Workflow<typeof Feed.feedWorkflow> = (...args) => feed().feedWorkflow(...args);
export const pacerWorkflow: Workflow<typeof Pacer.pacerWorkflow> = (...args) =>
  pacer().pacerWorkflow(...args);
export const groupWorkflow: Workflow<typeof Group.groupWorkflow> = (...args) =>
  group().groupWorkflow(...args);
export const importListWorkflow: Workflow<typeof Import.importListWorkflow> = (...args) =>
  imports().importListWorkflow(...args);
export const importWorkflow: Workflow<typeof Import.importWorkflow> = (...args) =>
  imports().importWorkflow(...args);
export const importBatchWorkflow: Workflow<typeof Import.importBatchWorkflow> = (...args) =>
  imports().importBatchWorkflow(...args);
export const reconcileWorkflow: Workflow<typeof Reconcile.reconcileWorkflow> = (...args) =>
  reconcile().reconcileWorkflow(...args);
export const userWorkflow: Workflow<typeof User.userWorkflow> = (...args) => user().userWorkflow(...args);
