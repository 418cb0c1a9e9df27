/**
 * A workflow's statistics (`Workflow.stats`) over a window a person picks: runs by state, runs over time, the
 * commonest failure reasons and run durations as charts, and the stuck runs. Read again when runs finish, at most
 * every few seconds: a window's first read may cost CI a few hundred calls (later ones, of a window that ends now,
 * one list call).
 */
import { useQuery } from '@urql/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Bars, DurationBars, STATE_ORDER, StatesOverTime } from './charts.js';
import { formatTime } from './format.js';
import { graphql } from './graphql.js';
import { ProblemNote } from './problem-note.js';
import type { WorkflowKey } from './run-list.js';

const StatsQuery = graphql(`
  query WorkflowStatistics($bucketId: ID, $workflowId: ID!, $window: StatsWindow) {
    workflow(bucketId: $bucketId, workflowId: $workflowId) {
      id
      stats(window: $window) {
        from
        to
        scannedRuns
        detailedRuns
        complete
        byState {
          state
          count
        }
        timeline {
          from
          to
          byState {
            state
            count
          }
        }
        failureReasons {
          taskType
          code
          messagePattern
          count
          exampleRun {
            id
            runId
          }
        }
        durations {
          p50
          p90
          p99
          runs
        }
        stuckRuns {
          id
          runId
          state
          createdAt
        }
      }
    }
  }
`);

const HOUR_MS = 3_600_000;
export const WINDOWS = [
  { key: '1h', label: 'Last hour', ms: HOUR_MS },
  { key: '24h', label: 'Last 24 hours', ms: 24 * HOUR_MS },
  { key: '7d', label: 'Last 7 days', ms: 7 * 24 * HOUR_MS },
  { key: '31d', label: 'Last 31 days', ms: 31 * 24 * HOUR_MS },
] as const;
/** Reads again after runs finish no sooner than this. */
const REFRESH_MS = 3_000;

export function Stats(props: {
  readonly workflow: WorkflowKey;
  /** Bumped whenever a run of the workflow finishes. */
  readonly finishedRuns: number;
  readonly onSelectRun: (runId: string) => void;
}) {
  const [windowKey, setWindowKey] = useState<string>('24h');
  // A preset window ends when it is asked for; fixed per choice so the answer can be reused until a refresh.
  const [askedAt, setAskedAt] = useState(() => Date.now());
  // Whole UTC days, both included.
  const [days, setDays] = useState({ from: '', to: '' });
  const span = WINDOWS.find((candidate) => candidate.key === windowKey)?.ms;
  const window = useMemo(() => {
    if (span !== undefined) {
      return { from: new Date(askedAt - span).toISOString(), to: new Date(askedAt).toISOString() };
    }
    const from = Date.parse(`${days.from}T00:00:00Z`);
    const to = Date.parse(`${days.to}T00:00:00Z`) + 24 * HOUR_MS - 1;
    return Number.isFinite(from) && Number.isFinite(to)
      ? { from: new Date(from).toISOString(), to: new Date(to).toISOString() }
      : undefined;
  }, [askedAt, span, days.from, days.to]);
  const [result] = useQuery({
    query: StatsQuery,
    variables: { ...props.workflow, window: window ?? null },
    pause: window === undefined,
  });
  const lastRefresh = useRef(0);
  useEffect(() => {
    if (props.finishedRuns === 0) return;
    const wait = Math.max(0, lastRefresh.current + REFRESH_MS - Date.now());
    const timer = setTimeout(() => {
      lastRefresh.current = Date.now();
      setAskedAt(Date.now());
    }, wait);
    return () => clearTimeout(timer);
  }, [props.finishedRuns]);

  // The last answer stays on screen while the next is read.
  const shown = useRef<typeof result.data>(undefined);
  if (result.data) shown.current = result.data;
  const stats = shown.current?.workflow?.stats;
  return (
    <section class="panel stats" aria-labelledby="stats-title" aria-busy={result.fetching}>
      <header class="panel-head">
        <h2 id="stats-title">Statistics</h2>
        <label>
          Window{' '}
          <select
            value={windowKey}
            onChange={(event) => {
              setWindowKey(event.currentTarget.value);
              setAskedAt(Date.now());
            }}
          >
            {WINDOWS.map((choice) => (
              <option key={choice.key} value={choice.key}>
                {choice.label}
              </option>
            ))}
            <option value="days">Days…</option>
          </select>
        </label>
        {windowKey === 'days' && (
          <span class="days">
            <label>
              From{' '}
              <input
                type="date"
                value={days.from}
                onChange={(event) => setDays({ ...days, from: event.currentTarget.value })}
              />
            </label>{' '}
            <label>
              to{' '}
              <input
                type="date"
                value={days.to}
                onChange={(event) => setDays({ ...days, to: event.currentTarget.value })}
              />
            </label>
          </span>
        )}
        <button type="button" onClick={() => setAskedAt(Date.now())} disabled={result.fetching}>
          Refresh
        </button>
      </header>
      {result.error && <ProblemNote problem={result.error} />}
      {stats && (
        <>
          <p class="coverage">
            {formatTime(stats.from)} to {formatTime(stats.to)} UTC: {stats.scannedRuns} runs listed,{' '}
            {stats.detailedRuns} read in detail
            {stats.complete
              ? '.'
              : ' — not every run was seen (the window holds more than the bounds allow).'}
          </p>
          <ul class="state-counts" aria-label="Runs by state">
            {STATE_ORDER.map((state) => (
              <li key={state}>
                <span class={`state ${state}`}>{state}</span>{' '}
                {stats.byState.find((entry) => entry.state === state)?.count ?? 0}
              </li>
            ))}
          </ul>
          <StatesOverTime intervals={stats.timeline} />
          {stats.failureReasons.length === 0 ? (
            <p class="chart">No run failed in this window.</p>
          ) : (
            <Bars
              label="Top failure reasons"
              className="reasons"
              items={stats.failureReasons.map((reason) => ({
                key: `${reason.taskType}|${reason.code}|${reason.messagePattern}`,
                label: (
                  <>
                    <strong>{reason.taskType || 'run'}</strong> <code>{reason.code}</code>{' '}
                    {reason.messagePattern}{' '}
                    <button
                      type="button"
                      class="link"
                      onClick={() => props.onSelectRun(reason.exampleRun.runId)}
                    >
                      e.g. {reason.exampleRun.runId}
                    </button>
                  </>
                ),
                value: reason.count,
                text: `${reason.count}×`,
              }))}
            />
          )}
          <DurationBars durations={stats.durations} />
          <h3>Stuck runs</h3>
          {stats.stuckRuns.length === 0 ? (
            <p>None running or paused for longer than an hour.</p>
          ) : (
            <ul class="stuck">
              {stats.stuckRuns.map((run) => (
                <li key={run.runId}>
                  <button type="button" class="link" onClick={() => props.onSelectRun(run.runId)}>
                    {run.runId}
                  </button>{' '}
                  <span class={`state ${run.state}`}>{run.state}</span> since {formatTime(run.createdAt)}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
