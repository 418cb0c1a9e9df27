/**
 * What a person can do to a workflow: start a run on an object, start a batch trigger over a prefix, pause or
 * activate it. A trigger and a batch trigger are sent at most once (`at-most-once.tsx`); pause and activate are
 * idempotent, so a failed one may simply be pressed again.
 */
import { useClient, useMutation } from '@urql/preact';
import { useState } from 'preact/hooks';
import { Outcome, useAtMostOnce } from './at-most-once.js';
import { type Problem, problemOf } from './errors.js';
import { ExecutionRowFragment, graphql } from './graphql.js';
import { ProblemNote } from './problem-note.js';
import { runsOnObjectSince } from './run-checks.js';
import type { Run, WorkflowKey } from './run-list.js';

const TriggerMutation = graphql(
  `
    mutation Trigger($bucketId: ID, $workflowId: ID!, $objectKey: String!) {
      triggerWorkflow(input: { bucketId: $bucketId, workflowId: $workflowId, objectKey: $objectKey }) {
        runId
        execution {
          ...ExecutionRow
        }
      }
    }
  `,
  [ExecutionRowFragment],
);

const StartBatchMutation = graphql(`
  mutation StartBatch($input: StartBatchTriggerInput!) {
    startBatchTrigger(input: $input) {
      batchTrigger {
        id
        jobId
        state
        progress
      }
    }
  }
`);

const BatchesSinceQuery = graphql(`
  query BatchesSince($bucketId: ID, $workflowId: ID!, $since: DateTime!) {
    workflow(bucketId: $bucketId, workflowId: $workflowId) {
      id
      batchTriggers(filter: { createdAfter: $since }, first: 5) {
        edges {
          node {
            id
            jobId
            name
            state
          }
        }
      }
    }
  }
`);

const PauseMutation = graphql(`
  mutation Pause($bucketId: ID, $workflowId: ID!) {
    pauseWorkflow(bucketId: $bucketId, workflowId: $workflowId) {
      workflow {
        id
        state
      }
    }
  }
`);

const ActivateMutation = graphql(`
  mutation Activate($bucketId: ID, $workflowId: ID!) {
    activateWorkflow(bucketId: $bucketId, workflowId: $workflowId) {
      workflow {
        id
        state
      }
    }
  }
`);

export function TriggerForm(props: {
  readonly workflow: WorkflowKey;
  readonly onStarted: (run: Run) => void;
}) {
  const client = useClient();
  const [objectKey, setObjectKey] = useState('');
  const [, trigger] = useMutation(TriggerMutation);
  const action = useAtMostOnce(
    async () => {
      const answer = await trigger({ ...props.workflow, objectKey });
      const started = answer.data?.triggerWorkflow;
      if (started?.execution) props.onStarted(started.execution);
      return { error: answer.error, text: started ? `Run started: ${started.runId}.` : undefined };
    },
    (since) => runsOnObjectSince(client, props.workflow, objectKey, since),
  );
  return (
    <form
      class="action-form"
      onSubmit={(event) => {
        event.preventDefault();
        void action.send();
      }}
    >
      <label for="trigger-object">Object key</label>
      <input
        id="trigger-object"
        required
        value={objectKey}
        placeholder="uploads/clip.mp4"
        onInput={(event) => setObjectKey(event.currentTarget.value)}
      />
      <button type="submit" disabled={action.blocked || objectKey === ''}>
        Trigger
      </button>
      <Outcome action={action} />
    </form>
  );
}

export function BatchTriggerForm(props: { readonly workflow: WorkflowKey }) {
  const client = useClient();
  const [prefix, setPrefix] = useState('');
  const [, start] = useMutation(StartBatchMutation);
  const action = useAtMostOnce(
    async () => {
      const name = `console-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
      const answer = await start({ input: { ...props.workflow, name, prefix } });
      const job = answer.data?.startBatchTrigger.batchTrigger;
      return { error: answer.error, text: job ? `Batch trigger ${job.jobId} is ${job.state}.` : undefined };
    },
    async (since) => {
      const result = await client
        .query(
          BatchesSinceQuery,
          { ...props.workflow, since: since.toISOString() },
          { requestPolicy: 'network-only' },
        )
        .toPromise();
      if (result.error || !result.data) throw result.error ?? new Error('no answer');
      const jobs = result.data.workflow?.batchTriggers.edges.map((edge) => edge.node) ?? [];
      return jobs.length === 0
        ? null
        : `batch trigger ${jobs.map((job) => `${job.jobId} (${job.state})`).join(', ')}`;
    },
  );
  return (
    <form
      class="action-form"
      onSubmit={(event) => {
        event.preventDefault();
        void action.send();
      }}
    >
      <label for="batch-prefix">Batch over prefix</label>
      <input
        id="batch-prefix"
        required
        value={prefix}
        placeholder="videos/2026/"
        onInput={(event) => setPrefix(event.currentTarget.value)}
      />
      <button type="submit" disabled={action.blocked || prefix === ''}>
        Start batch
      </button>
      <Outcome action={action} />
    </form>
  );
}

export function PauseToggle(props: { readonly workflow: WorkflowKey; readonly state: 'ACTIVE' | 'PAUSED' }) {
  const [pausing, pause] = useMutation(PauseMutation);
  const [activating, activate] = useMutation(ActivateMutation);
  const [problem, setProblem] = useState<Problem | undefined>();
  const busy = pausing.fetching || activating.fetching;
  const toggle = async () => {
    const answer = props.state === 'ACTIVE' ? await pause(props.workflow) : await activate(props.workflow);
    setProblem(answer.error ? problemOf(answer.error) : undefined);
  };
  return (
    <span class="pause-toggle">
      <span class={`state ${props.state}`}>{props.state}</span>{' '}
      <button type="button" onClick={() => void toggle()} disabled={busy} aria-busy={busy}>
        {props.state === 'ACTIVE' ? 'Pause' : 'Activate'}
      </button>
      {problem && <ProblemNote problem={problem} />}
    </span>
  );
}
