/**
 * One run: what the list knows at once, then its tasks and their media jobs' progress, which take CI a read per
 * run and per few jobs, delivered later in the same answer with `@defer`. Read again whenever an event about the
 * run arrives; re-run from here.
 */
import { useClient, useMutation, useQuery } from '@urql/preact';
import { useEffect } from 'preact/hooks';
import { Outcome, useAtMostOnce } from './at-most-once.js';
import { formatSeconds, formatTime } from './format.js';
import { ExecutionRowFragment, graphql } from './graphql.js';
import { ProblemNote } from './problem-note.js';
import { runsOnObjectSince } from './run-checks.js';
import type { Run, WorkflowKey } from './run-list.js';

const RunDetailsQuery = graphql(
  `
    query RunDetails($bucketId: ID, $runId: ID!) {
      workflowExecution(bucketId: $bucketId, runId: $runId) {
        ...ExecutionRow
        workflowName
        ... @defer {
          finishedAt
          durationSeconds
          tasks {
            type
            name
            state
            code
            message
            startedAt
            endedAt
            job {
              jobId
              state
              progress
              code
              message
              outputObjectKeys
            }
          }
        }
      }
    }
  `,
  [ExecutionRowFragment],
);

const RerunMutation = graphql(
  `
    mutation Rerun($bucketId: ID, $runId: ID!) {
      rerunWorkflowExecution(bucketId: $bucketId, runId: $runId) {
        runId
        execution {
          ...ExecutionRow
        }
      }
    }
  `,
  [ExecutionRowFragment],
);

export function RunDetails(props: {
  readonly workflow: WorkflowKey;
  readonly runId: string;
  /** Bumped by every event about this run: the details are read again. */
  readonly version: number;
  readonly onStarted: (run: Run) => void;
  readonly onClose: () => void;
}) {
  const client = useClient();
  const variables = { bucketId: props.workflow.bucketId, runId: props.runId };
  const [result, reexecute] = useQuery({ query: RunDetailsQuery, variables });
  useEffect(() => {
    if (props.version > 0) reexecute({ requestPolicy: 'network-only' });
  }, [props.version]);
  const [, rerun] = useMutation(RerunMutation);
  const run = result.data?.workflowExecution;
  const action = useAtMostOnce(
    async () => {
      const answer = await rerun(variables);
      const started = answer.data?.rerunWorkflowExecution;
      if (started?.execution) props.onStarted(started.execution);
      return { error: answer.error, text: started ? `Re-run started: ${started.runId}.` : undefined };
    },
    (since) =>
      run ? runsOnObjectSince(client, props.workflow, run.objectKey, since) : Promise.resolve(null),
  );

  return (
    <section class="panel details" aria-labelledby="details-title">
      <header class="panel-head">
        <h2 id="details-title">Run {props.runId}</h2>
        <button type="button" onClick={props.onClose} aria-label="Close the run’s details">
          ✕
        </button>
      </header>
      {result.error && <ProblemNote problem={result.error} />}
      {!run && result.fetching && <p aria-busy="true">Loading…</p>}
      {!run && !result.fetching && !result.error && <p>CI has no such run.</p>}
      {run && (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <span class={`state ${run.state}`}>{run.state}</span>
            </dd>
            <dt>Object</dt>
            <dd class="object">{run.objectKey}</dd>
            <dt>Started</dt>
            <dd>{formatTime(run.createdAt)}</dd>
            <dt>Finished</dt>
            <dd>{'finishedAt' in run ? formatTime(run.finishedAt) : '…'}</dd>
            <dt>Took</dt>
            <dd>{'durationSeconds' in run ? formatSeconds(run.durationSeconds) : '…'}</dd>
          </dl>
          <h3>Tasks</h3>
          {'tasks' in run && run.tasks ? (
            <ol class="tasks">
              {run.tasks.map((task, index) => (
                <li key={`${index}-${task.type}`} class="task">
                  <span class="task-type">{task.name ?? task.type}</span>{' '}
                  <span class={`state ${task.state.toUpperCase()}`}>{task.state}</span>
                  {task.job && (
                    <span class="job">
                      {' '}
                      job {task.job.jobId}:{' '}
                      <progress max={100} value={task.job.progress ?? 0} aria-label={`${task.type} progress`}>
                        {task.job.progress ?? 0}%
                      </progress>{' '}
                      {task.job.progress ?? 0}%
                    </span>
                  )}
                  {task.message && <p class="task-message">{`${task.code ?? ''} ${task.message}`.trim()}</p>}
                </li>
              ))}
            </ol>
          ) : (
            <p aria-busy="true" class="deferred">
              Reading tasks and jobs…
            </p>
          )}
          <div class="actions">
            <button type="button" onClick={() => void action.send()} disabled={action.blocked}>
              Re-run
            </button>
            <span class="hint">A new run on the same object; sent at most once.</span>
            <Outcome action={action} />
          </div>
        </>
      )}
    </section>
  );
}
