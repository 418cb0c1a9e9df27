/** The executions table: a live, paginated view of a workflow's runs; a run's id opens its details. */
import { formatTime } from './format.js';
import { ProblemNote } from './problem-note.js';
import type { RunList } from './run-list.js';

export const PAGE_SIZES = [20, 50, 100] as const;

export function Executions(props: {
  readonly list: RunList;
  readonly pageSize: number;
  readonly onPageSize: (size: number) => void;
  readonly selectedRunId: string | undefined;
  readonly onSelect: (runId: string) => void;
}) {
  const { list } = props;
  return (
    <section class="panel executions" aria-labelledby="executions-title">
      <header class="panel-head">
        <h2 id="executions-title">Executions</h2>
        <span class={`live ${list.live}`} role="status">
          {list.live === 'live' ? '● Live' : '○ Updates lost: reconnecting…'}
        </span>
        <label class="page-size">
          Per page{' '}
          <select
            value={String(props.pageSize)}
            onChange={(event) => props.onPageSize(Number(event.currentTarget.value))}
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={String(size)}>
                {size}
              </option>
            ))}
          </select>
        </label>
      </header>
      {list.problem && <ProblemNote problem={list.problem} />}
      <table>
        <caption class="visually-hidden">Runs of the workflow, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Object</th>
            <th scope="col">State</th>
            <th scope="col">Started (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {list.runs.map((run) => (
            <tr key={run.runId} data-run-id={run.runId} aria-selected={run.runId === props.selectedRunId}>
              <td>
                <button type="button" class="link" onClick={() => props.onSelect(run.runId)}>
                  {run.runId}
                </button>
              </td>
              <td class="object">{run.objectKey}</td>
              <td>
                <span class={`state ${run.state}`}>{run.state}</span>
              </td>
              <td>
                <time dateTime={run.createdAt}>{formatTime(run.createdAt)}</time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <footer class="panel-foot">
        <span class="count" aria-live="polite">
          {list.runs.length} runs shown{list.hasNextPage || list.loading ? '' : ' · end of list'}
        </span>
        {list.hasNextPage && (
          <button type="button" onClick={list.loadMore} disabled={list.loading}>
            {list.loading ? 'Loading…' : 'Load more'}
          </button>
        )}
      </footer>
    </section>
  );
}
