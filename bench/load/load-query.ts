/** The one query every load run sends, to the gateway and to both baselines alike. */
import { LOAD_WORKFLOW_ID } from './static-upstream.js';

export const LOAD_QUERY = `query Executions($workflowId: ID!, $first: Int!, $withTasks: Boolean!) {
  workflowExecutions(filter: { workflowId: $workflowId }, first: $first) {
    edges { cursor node { runId objectKey state createdAt tasks @include(if: $withTasks) { type state } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The JSON body of a load request for the first `first` runs of the static upstream's workflow. */
export function loadRequestBody(first: number, withTasks: boolean): string {
  return JSON.stringify({ query: LOAD_QUERY, variables: { workflowId: LOAD_WORKFLOW_ID, first, withTasks } });
}
