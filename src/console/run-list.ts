/**
 * A workflow's runs as the console shows them: the executions connection read a page at a time (newest first, the
 * cursor is the gateway's), kept current by the workflow's event subscription. A run seen for the first time is
 * inserted where its start time puts it, or left for a later page when it is older than what is loaded; a changed
 * run is updated in place; nothing is ever listed twice.
 */
import type { Client } from '@urql/core';
import { useClient } from '@urql/preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { onEnd, pipe, type Subscription, subscribe } from 'wonka';
import { type Problem, problemOf } from './errors.js';
import { ExecutionRowFragment, graphql, type ResultOf } from './graphql.js';

export type Run = ResultOf<typeof ExecutionRowFragment>;
export type RunEventKind = 'STARTED' | 'UPDATED' | 'FINISHED';

const PageQuery = graphql(
  `
    query ExecutionsPage($bucketId: ID, $workflowId: ID!, $first: Int!, $after: String) {
      workflowExecutions(filter: { bucketId: $bucketId, workflowId: $workflowId }, first: $first, after: $after) {
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            ...ExecutionRow
          }
        }
      }
    }
  `,
  [ExecutionRowFragment],
);

const EventsSubscription = graphql(
  `
    subscription ExecutionEvents($bucketId: ID, $workflowId: ID!) {
      workflowExecutionEvents(filter: { bucketId: $bucketId, workflowId: $workflowId }) {
        kind
        at
        execution {
          ...ExecutionRow
        }
      }
    }
  `,
  [ExecutionRowFragment],
);

/** The states a run leaves no more. */
const FINISHED = new Set(['SUCCESS', 'FAILED', 'CANCEL']);
export const isFinished = (run: Run): boolean => FINISHED.has(run.state);

/** How long to wait before subscribing again after the event stream was lost. */
const RESUBSCRIBE_MS = 3_000;

export interface RunList {
  readonly runs: readonly Run[];
  readonly hasNextPage: boolean;
  readonly loading: boolean;
  readonly problem: Problem | undefined;
  /** `live` while the event stream is open (or opening), `lost` from its failure until it is opened again. */
  readonly live: 'live' | 'lost';
  loadMore(): void;
  /** Shows a run the console itself started, before its event arrives. */
  upsert(run: Run): void;
}

export interface WorkflowKey {
  readonly bucketId: string;
  readonly workflowId: string;
}

export function useRunList(
  workflow: WorkflowKey,
  pageSize: number,
  onEvent: (kind: RunEventKind, run: Run) => void,
): RunList {
  const client = useClient();
  const [runs, setRuns] = useState<readonly Run[]>([]);
  const [page, setPage] = useState<{ endCursor: string | null; hasNextPage: boolean }>({
    endCursor: null,
    hasNextPage: false,
  });
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [live, setLive] = useState<RunList['live']>('live');
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  // Which list a page answer belongs to: a page asked for before the workflow changed is dropped.
  const generation = useRef(0);
  const pageRef = useRef(page);
  pageRef.current = page;

  const readPage = useCallback(
    async (after: string | null) => {
      const asked = generation.current;
      setLoading(true);
      const result = await readRunsPage(client, workflow, pageSize, after);
      if (asked !== generation.current) return;
      setLoading(false);
      if (result.error || !result.data) return setProblem(result.error ? problemOf(result.error) : undefined);
      setProblem(undefined);
      const connection = result.data.workflowExecutions;
      setRuns((shown) =>
        merge(
          shown,
          connection.edges.map((edge) => edge.node),
          true,
        ),
      );
      setPage({
        endCursor: connection.pageInfo.endCursor ?? null,
        hasNextPage: connection.pageInfo.hasNextPage,
      });
    },
    [client, workflow.bucketId, workflow.workflowId, pageSize],
  );

  useEffect(() => {
    generation.current += 1;
    setRuns([]);
    setPage({ endCursor: null, hasNextPage: false });
    setProblem(undefined);
    void readPage(null);
  }, [readPage]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let subscription: Subscription | undefined;
    let closed = false;
    const open = () => {
      setLive('live');
      subscription = pipe(
        client.subscription(EventsSubscription, {
          bucketId: workflow.bucketId,
          workflowId: workflow.workflowId,
        }),
        // The stream ends when it fails or the gateway ends it (a replica draining): open it again shortly.
        onEnd(() => {
          if (closed) return;
          setLive('lost');
          timer = setTimeout(open, RESUBSCRIBE_MS);
        }),
        subscribe((result) => {
          if (result.error) return setLive('lost');
          const event = result.data?.workflowExecutionEvents;
          if (!event) return;
          const { kind, execution } = event;
          setRuns((shown) => {
            const known = shown.some((run) => run.runId === execution.runId);
            // A run older than the last one loaded belongs to a page not read yet: it will come with it.
            const last = shown.at(-1);
            const beyond =
              !known && pageRef.current.hasNextPage && last && execution.createdAt < last.createdAt;
            return beyond ? shown : merge(shown, [execution], false);
          });
          onEventRef.current(kind, execution);
        }),
      );
    };
    open();
    return () => {
      closed = true;
      clearTimeout(timer);
      subscription?.unsubscribe();
    };
  }, [client, workflow.bucketId, workflow.workflowId]);

  return {
    runs,
    hasNextPage: page.hasNextPage,
    loading,
    problem,
    live,
    loadMore: () => {
      if (!loading && page.hasNextPage) void readPage(page.endCursor);
    },
    upsert: (run) => setRuns((shown) => merge(shown, [run], false)),
  };
}

function readRunsPage(client: Client, workflow: WorkflowKey, first: number, after: string | null) {
  return client
    .query(
      PageQuery,
      { bucketId: workflow.bucketId, workflowId: workflow.workflowId, first, after },
      { requestPolicy: 'network-only' },
    )
    .toPromise();
}

/**
 * `incoming` merged into `shown`, newest first, each run once. What a page says of a run never undoes a finish an
 * event already showed (a page may have been read before the event).
 */
export function merge(shown: readonly Run[], incoming: readonly Run[], fromPage: boolean): Run[] {
  const byId = new Map(shown.map((run) => [run.runId, run]));
  for (const run of incoming) {
    const known = byId.get(run.runId);
    const stale = fromPage && known && isFinished(known) && !isFinished(run);
    if (!stale) byId.set(run.runId, run);
  }
  return [...byId.values()].sort((a, b) =>
    a.createdAt === b.createdAt ? b.runId.localeCompare(a.runId) : b.createdAt.localeCompare(a.createdAt),
  );
}
