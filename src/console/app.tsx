/**
 * The operations console: pick a workflow from any bucket, watch its executions live, open a run, act on the
 * workflow, and read its statistics. It uses nothing but the gateway's public GraphQL API.
 */
import { useCallback, useState } from 'preact/hooks';
import { Executions, PAGE_SIZES } from './executions.js';
import { RunDetails } from './run-details.js';
import { isFinished, type Run, type RunEventKind, useRunList, type WorkflowKey } from './run-list.js';
import { Stats } from './stats.js';
import { BatchTriggerForm, PauseToggle, TriggerForm } from './workflow-actions.js';
import { type PickedWorkflow, useWorkflows, WorkflowPicker } from './workflow-picker.js';

export function App() {
  const workflows = useWorkflows();
  const [selectedId, setSelectedId] = useState<string | undefined>();
  // The chosen workflow as last read: its state follows pause and activate.
  const workflow = workflows.workflows.find((candidate) => candidate.id === selectedId);
  return (
    <>
      <header class="top">
        <h1>CI workflow console</h1>
        <WorkflowPicker workflows={workflows} selectedId={selectedId} onSelect={setSelectedId} />
      </header>
      <main>
        {workflow ? (
          <WorkflowView key={workflow.id} workflow={workflow} />
        ) : (
          <p class="empty">Choose a workflow to see its runs and statistics.</p>
        )}
      </main>
    </>
  );
}

function WorkflowView(props: { readonly workflow: PickedWorkflow }) {
  const { workflow } = props;
  const key: WorkflowKey = { bucketId: workflow.bucketId, workflowId: workflow.workflowId };
  const [pageSize, setPageSize] = useState<number>(PAGE_SIZES[0]);
  const [selected, setSelected] = useState<string | undefined>();
  const [selectedVersion, setSelectedVersion] = useState(0);
  const [finishedRuns, setFinishedRuns] = useState(0);
  const onEvent = useCallback(
    (_kind: RunEventKind, run: Run) => {
      // By its state, not the event's kind: a run first seen already finished comes as STARTED.
      if (isFinished(run)) setFinishedRuns((count) => count + 1);
      if (run.runId === selected) setSelectedVersion((version) => version + 1);
    },
    [selected],
  );
  const list = useRunList(key, pageSize, onEvent);
  const select = (runId: string) => {
    setSelected(runId);
    setSelectedVersion(0);
  };
  const started = (run: Run) => list.upsert(run);

  return (
    <div class="workflow">
      <section class="panel summary" aria-labelledby="workflow-title">
        <header class="panel-head">
          <h2 id="workflow-title">{workflow.name}</h2>
          <span class="muted">
            {workflow.workflowId} in {workflow.bucketId}
          </span>
          <PauseToggle workflow={key} state={workflow.state} />
        </header>
        <div class="forms">
          <TriggerForm workflow={key} onStarted={started} />
          <BatchTriggerForm workflow={key} />
        </div>
      </section>
      <div class="columns">
        <div class="column">
          {selected && (
            <RunDetails
              key={selected}
              workflow={key}
              runId={selected}
              version={selectedVersion}
              onStarted={started}
              onClose={() => setSelected(undefined)}
            />
          )}
          <Executions
            list={list}
            pageSize={pageSize}
            onPageSize={setPageSize}
            selectedRunId={selected}
            onSelect={select}
          />
        </div>
        <div class="column">
          <Stats workflow={key} finishedRuns={finishedRuns} onSelectRun={select} />
        </div>
      </div>
    </div>
  );
}
