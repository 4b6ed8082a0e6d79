/** The workflows a worker runs (its `workflowsPath`). Deterministic orchestration only. */
export { connectorWorkflow } from './connector';
export { feedWorkflow } from './feed';
export { pacerWorkflow } from './pacer';
export { groupWorkflow } from './group';
export { importBatchWorkflow, importListWorkflow, importWorkflow } from './import';
export { reconcileWorkflow } from './reconcile';
export { userWorkflow } from './user';
