/**
 * Subscriptions: one run's changes until it finishes, and a workflow's new runs and changes. What they stream
 * comes from live updates (`src/live`), shared by every subscriber; each subscription only filters and shapes it.
 */
import { GraphQLError } from 'graphql';
import { Repeater } from 'graphql-yoga';
import { batchJobIdRule, objectKeyRule, runIdRule, workflowIdRule } from '../ci/inputs.js';
import { RunNotFound, type WorkflowEvent, type WorkflowEventKind } from '../live/live-updates.js';
import { afterDelay } from '../timers.js';
import type { AccessRules, Builder } from './builder.js';
import { executionNotFound, UNAUTHENTICATED } from './errors.js';
import { parseArgument, parseOptionalArgument } from './inputs.js';
import type { ExecutionTypes } from './workflow-execution.js';

export function addLiveTypes(builder: Builder, executions: ExecutionTypes, access: AccessRules) {
  builder.subscriptionType({ description: 'Live updates, over SSE or WebSocket.' });

  const EventKind = builder.enumType('WorkflowExecutionEventKind', {
    values: {
      STARTED: { value: 'STARTED' as WorkflowEventKind, description: 'A run seen for the first time.' },
      UPDATED: { value: 'UPDATED' as WorkflowEventKind, description: 'A run changed state and goes on.' },
      FINISHED: {
        value: 'FINISHED' as WorkflowEventKind,
        description: 'A run succeeded, failed or was cancelled.',
      },
    },
  });

  const EventRef = builder.objectRef<WorkflowEvent>('WorkflowExecutionEvent').implement({
    description: 'Something that happened to one of a workflow’s runs.',
    fields: (t) => ({
      kind: t.field({ type: EventKind, resolve: (event) => event.kind }),
      execution: t.field({
        type: executions.WorkflowExecutionRef,
        resolve: (event) => event.execution,
      }),
      at: t.field({
        type: 'DateTime',
        description: 'When the gateway saw it.',
        resolve: (event) => event.at,
      }),
    }),
  });

  const EventsFilter = builder.inputType('WorkflowExecutionEventsFilter', {
    fields: (t) => ({
      workflowId: t.id({ required: true }),
      states: t.field({
        type: [executions.WorkflowExecutionStateEnum],
        description: 'Only runs now in one of these.',
      }),
      objectKey: t.string({ description: 'Only runs on this exact object key.' }),
      batchJobId: t.id({ description: 'Only runs started by this batch trigger.' }),
    }),
  });

  builder.subscriptionFields((t) => ({
    workflowExecutionUpdated: t.field({
      ...access.read,
      type: executions.WorkflowExecutionRef,
      description:
        'The run’s current state at once, then every change of its state or of a task; completes once the run ' +
        'has finished and its final state was sent. An unknown run is `EXECUTION_NOT_FOUND`.',
      args: { runId: t.arg.id({ required: true }) },
      subscribe: (_root, args, context) => {
        const runId = parseArgument(runIdRule, String(args.runId), 'runId');
        return relay(context.services.live.watchRun(runId), context.caller.expiresAt);
      },
      resolve: (detail) => detail,
    }),
    workflowExecutionEvents: t.field({
      ...access.read,
      type: EventRef,
      description:
        'A workflow’s new runs (STARTED, when seen) and every change of its runs (UPDATED, FINISHED), from now on; ' +
        'never completes by itself.',
      args: { filter: t.arg({ type: EventsFilter, required: true }) },
      subscribe: (_root, { filter }, context) => {
        const workflowId = parseArgument(workflowIdRule, String(filter.workflowId), 'filter.workflowId');
        const objectKey = parseOptionalArgument(objectKeyRule, filter.objectKey, 'filter.objectKey');
        const batchJobId = parseOptionalArgument(
          batchJobIdRule,
          filter.batchJobId == null ? undefined : String(filter.batchJobId),
          'filter.batchJobId',
        );
        const states = filter.states ? new Set(filter.states) : undefined;
        return relay(
          context.services.live.watchWorkflow({ workflowId, batchJobId }),
          context.caller.expiresAt,
          (event) =>
            (states === undefined || states.has(event.execution.state)) &&
            (objectKey === undefined || event.execution.objectKey === objectKey),
        );
      },
      resolve: (event) => event,
    }),
  }));
}

/**
 * Passes a source on, keeping what `keep` accepts and mapping a missing run to its GraphQL error. A Repeater, so a
 * subscriber that leaves stops the source at once.
 */
function relay<T>(
  source: AsyncIterableIterator<T>,
  expiresAt: Date | undefined,
  keep: (item: T) => boolean = () => true,
): Repeater<T> {
  return new Repeater(async (push, stop) => {
    // A subscription lasts no longer than the token it was opened with.
    const cancelExpiry =
      expiresAt &&
      afterDelay(expiresAt.getTime() - Date.now(), () =>
        stop(
          new GraphQLError('The caller’s token has expired; subscribe again with a fresh one.', {
            extensions: { code: UNAUTHENTICATED },
          }),
        ),
      );
    void (async () => {
      try {
        for await (const item of source) if (keep(item)) await push(item);
        stop();
      } catch (error) {
        stop(error instanceof RunNotFound ? executionNotFound(error.message) : error);
      }
    })();
    await stop;
    cancelExpiry?.();
    await source.return?.();
  });
}
