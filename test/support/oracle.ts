/** The demo data in upstream order, computed independently of the emulator's paging. */
import { createDemoDataset, DEMO_WORKFLOW_IDS, type DemoExecution } from '../../src/emulator/demo-data.js';

const dataset = createDemoDataset();

export function demoExecutions(workflowId: string = DEMO_WORKFLOW_IDS.large): readonly DemoExecution[] {
  return dataset.workflows.find((w) => w.workflowId === workflowId)?.executions ?? [];
}

export function expectedRunIds(
  filter: (execution: DemoExecution) => boolean = () => true,
  order: 'Asc' | 'Desc' = 'Desc',
  workflowId: string = DEMO_WORKFLOW_IDS.large,
): string[] {
  const ascending = demoExecutions(workflowId)
    .filter(filter)
    .toSorted((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.runId < b.runId ? -1 : 1))
    .map((e) => e.runId);
  return order === 'Asc' ? ascending : ascending.reverse();
}
