/** Every workflow of every bucket the caller may use, in one list grouped by bucket. */
import { useQuery } from '@urql/preact';
import { problemOf } from './errors.js';
import { graphql, type ResultOf } from './graphql.js';

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

export function WorkflowPicker(props: {
  readonly selected: PickedWorkflow | undefined;
  readonly onSelect: (workflow: PickedWorkflow) => void;
}) {
  const [result] = useQuery({ query: WorkflowsQuery });
  const buckets = result.data?.buckets ?? [];
  const workflows = buckets.flatMap((bucket) => bucket.workflows.edges.map((edge) => edge.node));
  if (result.error) return <p role="alert">{problemOf(result.error).text}</p>;
  return (
    <div class="picker">
      <label for="workflow-picker">Workflow</label>
      <select
        id="workflow-picker"
        disabled={workflows.length === 0}
        value={props.selected?.id ?? ''}
        onChange={(event) => {
          const picked = workflows.find((workflow) => workflow.id === event.currentTarget.value);
          if (picked) props.onSelect(picked);
        }}
      >
        <option value="" disabled>
          {result.fetching ? 'Loading workflows…' : 'Choose a workflow'}
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
