/** What mutations check before they ask CI for a change: that what they name exists, and a workflow can run. */
import type { WorkflowId } from '../ci/inputs.js';
import type { Workflow } from '../ci/types.js';
import { ErrorCode } from '../error-codes.js';
import type { BucketScope } from './context.js';
import { actionError, workflowNotFound } from './errors.js';

/** What the loader finds for the id, or the error that says CI does not know it. */
export async function known<K, V>(
  loader: { load(key: K): Promise<V | null> },
  key: K,
  notFound: (key: K) => Error,
): Promise<V> {
  const value = await loader.load(key);
  if (value === null) throw notFound(key);
  return value;
}

/** The workflow, known to CI and active: decided before any change is asked for. */
export async function usableWorkflow(
  bucket: Pick<BucketScope, 'workflows'>,
  workflowId: WorkflowId,
): Promise<Workflow> {
  const workflow = await known(bucket.workflows, workflowId, workflowNotFound);
  if (workflow.state === 'Paused') {
    throw actionError(
      ErrorCode.WORKFLOW_PAUSED,
      `Workflow ${workflowId} is paused: it starts no runs. Activate it first (activateWorkflow).`,
      { workflowId },
    );
  }
  return workflow;
}
