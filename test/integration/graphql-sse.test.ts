/**
 * The graphql-sse client with its defaults ("distinct connections" mode): a query, and a triggered run followed to
 * completion with each event's jobs read afresh.
 */
import { createClient } from 'graphql-sse';
import { describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock, triggerRun } from '../support/console.js';
import { closeAfterEach, startGateway } from '../support/gateway.js';

const track = closeAfterEach();
const TOKEN = 'callback-token-0123456789abcdef0123456789';

describe('the graphql-sse client', () => {
  it('runs a query, and follows a triggered run to completion', async () => {
    const clock = manualClock();
    const fixture = track(
      await startGateway({ emulator: { now: clock.now }, gateway: { callbackToken: TOKEN } }),
    );
    const client = createClient({
      url: 'http://gateway/graphql',
      fetchFn: (input: RequestInfo | URL, init?: RequestInit) =>
        fixture.gateway.fetch(new Request(input, init)),
      retryAttempts: 0,
    });
    track({ close: async () => client.dispose() });

    const workflow = await new Promise<unknown>((resolve, reject) => {
      let data: unknown;
      client.subscribe(
        { query: `{ workflow(workflowId: "${DEMO_WORKFLOW_IDS.large}") { name } }` },
        {
          next: (result) => {
            data = result.data;
          },
          error: reject,
          complete: () => resolve(data),
        },
      );
    });
    expect(workflow).toEqual({ workflow: { name: 'transcode-and-snapshot' } });

    const runId = await triggerRun(fixture, 'sse-client/clip.mp4');
    const events: Array<{ state: string; progress: Array<number | undefined> }> = [];
    const done = new Promise<void>((resolve, reject) =>
      client.subscribe(
        {
          query: `subscription ($runId: ID!) { workflowExecutionUpdated(runId: $runId) { state tasks { job { progress } } } }`,
          variables: { runId },
        },
        {
          next: (result) => {
            const run = (
              result.data as {
                workflowExecutionUpdated: {
                  state: string;
                  tasks: Array<{ job: { progress: number } | null }>;
                };
              }
            ).workflowExecutionUpdated;
            events.push({ state: run.state, progress: run.tasks.map((task) => task.job?.progress) });
          },
          error: reject,
          complete: resolve,
        },
      ),
    );
    await expect.poll(() => events.length).toBe(1);
    clock.advance(2 * TASK_SECONDS + 1);
    await fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
    });
    await done;
    expect(events.at(-1)).toEqual({ state: 'SUCCESS', progress: [100, 100] });
  });
});
