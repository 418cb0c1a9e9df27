/**
 * The statistics drawn: hand-made SVG and HTML bars, no charting library (a few hundred bytes instead of tens of
 * kilobytes). Every chart carries its numbers as text too, in a table a screen reader or a keyboard can reach.
 */
import type { ComponentChildren } from 'preact';
import { formatSeconds, formatTime } from './format.js';

export const STATE_ORDER = ['SUCCESS', 'FAILED', 'RUNNING', 'PAUSE', 'CANCEL'] as const;
type StateCount = { readonly state: string; readonly count: number };

const countOf = (counts: readonly StateCount[], state: string) =>
  counts.find((entry) => entry.state === state)?.count ?? 0;

/** Runs started per interval, stacked by state. */
export function StatesOverTime(props: {
  readonly intervals: ReadonlyArray<{
    readonly from: string;
    readonly to: string;
    readonly byState: readonly StateCount[];
  }>;
}) {
  const totals = props.intervals.map((interval) =>
    interval.byState.reduce((sum, entry) => sum + entry.count, 0),
  );
  const most = Math.max(1, ...totals);
  const width = 480;
  const height = 140;
  const slot = width / Math.max(1, props.intervals.length);
  const first = props.intervals[0];
  const last = props.intervals.at(-1);
  return (
    <figure class="chart">
      <figcaption>Runs started over time, by state now</figcaption>
      <svg
        viewBox={`0 0 ${width} ${height + 16}`}
        role="img"
        aria-label={`Runs started per interval, ${totals.reduce((a, b) => a + b, 0)} in all, most in one interval ${most}`}
      >
        {props.intervals.map((interval, index) => {
          let top = height;
          return (
            <g key={interval.from}>
              <title>{`${formatTime(interval.from)}: ${totals[index]} runs`}</title>
              {STATE_ORDER.map((state) => {
                const count = countOf(interval.byState, state);
                if (count === 0) return null;
                const barHeight = (count / most) * height;
                top -= barHeight;
                return (
                  <rect
                    key={state}
                    class={`fill-${state}`}
                    x={index * slot + 1}
                    y={top}
                    width={Math.max(1, slot - 2)}
                    height={barHeight}
                  />
                );
              })}
            </g>
          );
        })}
        <text x="0" y={height + 13} class="axis">
          {formatTime(first?.from)}
        </text>
        <text x={width} y={height + 13} class="axis" text-anchor="end">
          {formatTime(last?.to)}
        </text>
      </svg>
      <Legend />
      <details>
        <summary>As a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">From (UTC)</th>
              {STATE_ORDER.map((state) => (
                <th key={state} scope="col">
                  {state}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.intervals.map((interval) => (
              <tr key={interval.from}>
                <th scope="row">{formatTime(interval.from)}</th>
                {STATE_ORDER.map((state) => (
                  <td key={state}>{countOf(interval.byState, state)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

function Legend() {
  return (
    <ul class="legend" aria-hidden="true">
      {STATE_ORDER.map((state) => (
        <li key={state}>
          <span class={`swatch fill-${state}`} /> {state}
        </li>
      ))}
    </ul>
  );
}

/** Horizontal bars with their numbers written beside them: a list, read as one. */
export function Bars(props: {
  readonly label: string;
  readonly items: ReadonlyArray<{
    readonly key: string;
    readonly label: ComponentChildren;
    readonly value: number;
    readonly text: string;
  }>;
  readonly className?: string;
}) {
  const most = Math.max(1e-9, ...props.items.map((item) => item.value));
  return (
    <figure class={`chart bars ${props.className ?? ''}`}>
      <figcaption>{props.label}</figcaption>
      <ol>
        {props.items.map((item) => (
          <li key={item.key}>
            <span class="bar-label">{item.label}</span>
            <span class="bar" aria-hidden="true">
              <span class="bar-fill" style={{ width: `${(item.value / most) * 100}%` }} />
            </span>
            <span class="bar-value">{item.text}</span>
          </li>
        ))}
      </ol>
    </figure>
  );
}

/** p50, p90 and p99 of run durations as bars. */
export function DurationBars(props: {
  readonly durations: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly runs: number;
  } | null;
}) {
  const { durations } = props;
  if (!durations) return <p class="chart">No finished run measured.</p>;
  return (
    <Bars
      label={`Run durations (${durations.runs} finished runs)`}
      className="durations"
      items={(['p50', 'p90', 'p99'] as const).map((rank) => ({
        key: rank,
        label: rank,
        value: durations[rank],
        text: formatSeconds(durations[rank]),
      }))}
    />
  );
}
