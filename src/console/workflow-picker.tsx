/** Every workflow of every bucket the caller may use, in one list grouped by bucket. */
import { useQuery } from '@urql/preact';
import { graphql, type ResultOf } from './graphql.js';
import { ProblemNote } from './problem-note.js';

const WorkflowsQuery = graphql(`
  query ConsoleWorkflows {
    buckets {
      bucketId
      isDefault
      workflows(first: 100) {
        edges {
          node {
            id
            bucketId
            workflowId
            name
            state
          }
        }
      }
    }
  }
`);

export type PickedWorkflow = ResultOf<
  typeof WorkflowsQuery
>['buckets'][number]['workflows']['edges'][number]['node'];

/**
 * The workflows the caller may use. Read here, once, for the picker and for the chosen workflow's header alike: a
 * mutation that changes a workflow (pause, activate) makes urql read the list again, and both show the new state.
 */
export function useWorkflows() {
  const [result] = useQuery({ query: WorkflowsQuery });
  const buckets = result.data?.buckets ?? [];
  return {
    buckets,
    workflows: buckets.flatMap((bucket) => bucket.workflows.edges.map((edge) => edge.node)),
    fetching: result.fetching,
    error: result.error,
  };
}

export function WorkflowPicker(props: {
  readonly workflows: ReturnType<typeof useWorkflows>;
  readonly selectedId: string | undefined;
  readonly onSelect: (workflowId: string) => void;
}) {
  const { buckets, workflows, fetching, error } = props.workflows;
  if (error) return <ProblemNote problem={error} />;
  return (
    <div class="picker">
      <label for="workflow-picker">Workflow</label>
      <select
        id="workflow-picker"
        disabled={workflows.length === 0}
        value={props.selectedId ?? ''}
        onChange={(event) => props.onSelect(event.currentTarget.value)}
      >
        <option value="" disabled>
          {fetching ? 'Loading workflows…' : 'Choose a workflow'}
        </option>
        {buckets.map((bucket) => (
          <optgroup key={bucket.bucketId} label={`${bucket.bucketId}${bucket.isDefault ? ' (default)' : ''}`}>
            {bucket.workflows.edges.map(({ node }) => (
              <option key={node.id} value={node.id}>
                {node.name} · {node.workflowId}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
    </div>
  );
}
