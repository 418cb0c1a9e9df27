/** What tests of the console's actions and live updates share: a clock they move, and a run they start. */
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import type { GatewayFixture } from './gateway.js';

/** The emulator's clock, moved by the test: runs progress when it says so. */
export function manualClock() {
  let nowMs = Date.now();
  return {
    now: () => nowMs,
    advance: (seconds: number) => {
      nowMs += seconds * 1000;
    },
  };
}

/** Triggers the large demo workflow on an object through the gateway; the new run's id. */
export async function triggerRun(
  fixture: GatewayFixture,
  objectKey: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const result = await fixture.query<{ triggerWorkflow: { runId: string } }>(
    `mutation Trigger($objectKey: String!) {
      triggerWorkflow(input: { workflowId: "${DEMO_WORKFLOW_IDS.large}", objectKey: $objectKey }) { runId }
    }`,
    { objectKey },
    headers,
  );
  const runId = result.data?.triggerWorkflow.runId;
  if (!runId) throw new Error(`trigger failed: ${JSON.stringify(result.errors)}`);
  return runId;
}
