/** What the console looks at after a lost answer, to learn whether CI acted: the object's newest runs. */
import type { Client } from '@urql/core';
import { ExecutionRowFragment, graphql } from './graphql.js';
import type { WorkflowKey } from './run-list.js';

const RunsOnObjectQuery = graphql(
  `
    query RunsOnObject($bucketId: ID, $workflowId: ID!, $objectKey: String!, $since: DateTime!) {
      workflowExecutions(
        filter: { bucketId: $bucketId, workflowId: $workflowId, objectKey: $objectKey, createdAfter: $since }
        first: 5
      ) {
        edges {
          node {
            ...ExecutionRow
          }
        }
      }
    }
  `,
  [ExecutionRowFragment],
);

/** The runs of `workflow` on `objectKey` created since `since`, described; null when there are none. */
export async function runsOnObjectSince(
  client: Client,
  workflow: WorkflowKey,
  objectKey: string,
  since: Date,
): Promise<string | null> {
  const result = await client
    .query(
      RunsOnObjectQuery,
      { ...workflow, objectKey, since: since.toISOString() },
      { requestPolicy: 'network-only' },
    )
    .toPromise();
  if (result.error || !result.data) throw result.error ?? new Error('no answer');
  const runs = result.data.workflowExecutions.edges.map((edge) => edge.node);
  return runs.length === 0 ? null : `run ${runs.map((run) => `${run.runId} (${run.state})`).join(', ')}`;
}
