/**
 * Apollo Client 4 with its defaults: one `HttpLink`, no other configuration. Subscriptions go over Apollo's own
 * multipart HTTP protocol, which is what its `HttpLink` sends for a subscription.
 */
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { describe, expect, it } from 'vitest';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock, triggerRun } from '../support/console.js';
import { closeAfterEach, type GatewayFixture, startGateway } from '../support/gateway.js';

const track = closeAfterEach();
const TOKEN = 'callback-token-0123456789abcdef0123456789';

const RUN = gql`
  subscription Run($runId: ID!) {
    workflowExecutionUpdated(runId: $runId) {
      runId
      state
      tasks {
        type
        job {
          progress
        }
      }
    }
  }
`;

type RunData = {
  workflowExecutionUpdated: { state: string; tasks: Array<{ job: { progress: number } | null }> };
};

function apollo(fixture: GatewayFixture) {
  const link = new HttpLink({
    uri: 'http://gateway/graphql',
    fetch: async (input, init) => fixture.gateway.fetch(new Request(String(input), init)),
  });
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

describe('Apollo Client’s HttpLink', () => {
  it('follows a triggered run to completion over its multipart subscription protocol', async () => {
    const clock = manualClock();
    const fixture = track(
      await startGateway({ emulator: { now: clock.now }, gateway: { callbackToken: TOKEN } }),
    );
    const runId = await triggerRun(fixture, 'apollo/clip.mp4');
    const client = apollo(fixture);
    const events: RunData[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<RunData>({ query: RUN, variables: { runId } }).subscribe({
        next: (result) => {
          if (result.error) reject(result.error);
          else if (result.data) events.push(result.data);
        },
        error: reject,
        complete: resolve,
      });
    });
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]?.workflowExecutionUpdated.state).toBe('RUNNING');
    clock.advance(2 * TASK_SECONDS + 1);
    await fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
    });
    await done;
    const last = events.at(-1)?.workflowExecutionUpdated;
    expect(last?.state).toBe('SUCCESS');
    expect(last?.tasks.map((task) => task.job?.progress)).toEqual([100, 100]);
  });

  it('frames each event as the protocol says: boundary `graphql`, one `payload` part per event', async () => {
    const fixture = track(await startGateway({ gateway: { callbackToken: TOKEN } }));
    const runId = await triggerRun(fixture, 'apollo/raw.mp4');
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json',
      },
      body: JSON.stringify({
        query: 'subscription ($runId: ID!) { workflowExecutionUpdated(runId: $runId) { state } }',
        variables: { runId },
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    );
    if (!response.body) throw new Error('no body');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.endsWith('--graphql') || !text.includes('"payload"')) {
      text += decoder.decode((await reader.read()).value, { stream: true });
    }
    expect(text).toBe(
      '\r\n--graphql\r\ncontent-type: application/json\r\n\r\n' +
        '{"payload":{"data":{"workflowExecutionUpdated":{"state":"RUNNING"}}}}\r\n--graphql',
    );
    await reader.cancel();
  });
});
