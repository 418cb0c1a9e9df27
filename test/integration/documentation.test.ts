/**
 * Every GraphQL example in the README and in `docs/` runs against the demo, so none can rot: each operation of each
 * ```graphql block, in the order a reader meets them, must answer without errors (a subscription: its first event;
 * a deferred query: every part). The docs write `"i…"`, `"w…"` and `"b…"` for ids of the reader's own; here they
 * are the run and batch trigger the examples before them started (or a demo one), and the large demo workflow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type OperationDefinitionNode, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatedCloud, startEmulatedCloud } from '../../src/emulator/cloud.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock, triggerRun } from '../support/console.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';
import { demoExecutions } from '../support/oracle.js';

const root = new URL('../..', import.meta.url).pathname;
const files = ['README.md', ...readdirSync(join(root, 'docs')).map((file) => join('docs', file))];

interface Example {
  readonly file: string;
  readonly operation: OperationDefinitionNode;
  readonly source: string;
}

/** Every operation of every ```graphql block, in reading order. */
const examples: Example[] = files.flatMap((file) =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/```graphql\n([\s\S]*?)```/g)].flatMap((match) => {
    const source = match[1] as string;
    return parse(source)
      .definitions.filter((definition) => definition.kind === 'OperationDefinition')
      .map((operation) => ({ file, operation, source }));
  }),
);

/** Ids the examples started, for the placeholders of the ones after them. */
const started = { runId: demoExecutions()[0]?.runId as string, jobId: 'b7e1f0a2b3c4d5e6f7a8b9c0d1e2f3a4b' };
const filled = (source: string) =>
  source
    .replaceAll('"i…"', `"${started.runId}"`)
    .replaceAll('"w…"', `"${DEMO_WORKFLOW_IDS.large}"`)
    .replaceAll('"b…"', `"${started.jobId}"`);
/** Values for the variables examples declare, by name. */
const variables = () => ({ after: null, runId: started.runId, workflowId: DEMO_WORKFLOW_IDS.large });

type Result = { data?: unknown; errors?: unknown };

const CALLBACK_TOKEN = 'docs-callback-token-0123456789abcdef';
const clock = manualClock();
let fixture: GatewayFixture;
let cloud: EmulatedCloud;
// The demo's own upstream: three buckets, two regions, two accounts.
beforeAll(async () => {
  cloud = await startEmulatedCloud({ now: clock.now });
  fixture = await startGateway({
    csrfPrevention: false,
    tenancy: cloud.tenancy,
    now: clock.now,
    gateway: { callbackToken: CALLBACK_TOKEN },
  });
});
afterAll(async () => {
  await fixture.close();
  await cloud.close();
});

/** Starts a run of the large workflow whose transcode fails, lets it fail, and has CI say so. */
async function failARun(): Promise<void> {
  // After the watch's first look at the workflow, which tells it what is old news.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const runId = await triggerRun(fixture, `docs/fail-${Date.now()}.mp4`);
  clock.advance(2 * TASK_SECONDS + 1);
  await fixture.gateway.fetch(`http://gateway/ci/callback/${CALLBACK_TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
  });
}

/**
 * The results of an operation answered over SSE: a subscription's first event (`stir` runs once the stream is open,
 * for subscriptions that wait for news), or every part of a deferred query.
 */
async function overSse(
  body: object,
  until: 'first' | 'complete',
  stir?: () => Promise<void>,
): Promise<Result[]> {
  const controller = new AbortController();
  const response = await fixture.gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  if (!response.body) throw new Error('no event stream');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const reading = (async () => {
    for (;;) {
      const results = [...text.matchAll(/event: next\ndata: (.*)\n\n/g)].map(
        (match) => JSON.parse(match[1] as string) as Result,
      );
      if (until === 'first' && results.length > 0) return results.slice(0, 1);
      if (until === 'complete' && text.includes('event: complete')) return results;
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended early: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
  })();
  try {
    // Read from the start, so the subscription is running before anything stirs it.
    await stir?.();
    return await reading;
  } finally {
    controller.abort();
    await reader.cancel().catch(() => {});
  }
}

describe('the documentation’s GraphQL examples', () => {
  it('are there to check', () => {
    expect(examples.length).toBeGreaterThan(10);
  });

  it.each(
    examples.map(
      (example, index) =>
        [
          `${example.file}, ${example.operation.operation} ${example.operation.name?.value ?? `#${index}`}`,
          example,
        ] as const,
    ),
  )('%s answers without errors', async (_name, example) => {
    const body = {
      query: filled(example.source),
      operationName: example.operation.name?.value,
      variables: variables(),
    };
    if (example.operation.operation === 'subscription') {
      // A workflow's events wait for news: a run that fails gives them some, whatever states they filter on.
      const [first] = await overSse(body, 'first', failARun);
      expect(first?.errors).toBeUndefined();
      expect(first?.data).toBeTruthy();
      return;
    }
    if (/@(defer|stream)\b/.test(example.source)) {
      const parts = await overSse(body, 'complete');
      expect(parts.length).toBeGreaterThan(1);
      expect(JSON.stringify(parts)).not.toContain('"errors"');
      return;
    }
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
    expect(answer.errors).toBeUndefined();
    const data = JSON.stringify(answer.data);
    started.runId = /"runId":"(i[0-9a-f]{32})"/.exec(data)?.[1] ?? started.runId;
    started.jobId = /"jobId":"(b[0-9a-f]{32})"/.exec(data)?.[1] ?? started.jobId;
  });
});
