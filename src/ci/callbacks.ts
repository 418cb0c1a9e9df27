/**
 * CI's callbacks (a workflow's `NotifyConfig`): `WorkflowFinish` carries the run, `TaskFinish` a media job whose
 * `Workflow.RunId` names the run. XML or JSON, with or without the `<Response>` root (CI's own examples differ).
 * A callback is unsigned, so all that is read from it is which run to look at again.
 */
import { isRecord } from '../records.js';
import { type RunId, runIdRule } from './inputs.js';
import { parseXml } from './xml.js';

export type CallbackEvent = 'WorkflowFinish' | 'TaskFinish';

export interface CallbackHint {
  readonly event: CallbackEvent;
  readonly runId: RunId;
}

export class UnreadableCallback extends Error {
  override readonly name = 'UnreadableCallback';
}

/** The run a callback body is about; {@link UnreadableCallback} for anything else. */
export function readCallback(body: string, contentType: string | null): CallbackHint {
  const tree = parse(body, contentType);
  const response = tree['Response'];
  const root = isRecord(response) ? response : tree;
  const event = root['EventName'];
  if (event === 'WorkflowFinish') {
    return { event, runId: runIdFrom(first(root['WorkflowExecution'])?.['RunId']) };
  }
  if (event === 'TaskFinish') {
    const job = first(root['JobsDetail']);
    return { event, runId: runIdFrom(first(job?.['Workflow'])?.['RunId']) };
  }
  throw new UnreadableCallback(`unknown EventName ${JSON.stringify(event)}`);
}

function parse(body: string, contentType: string | null): Record<string, unknown> {
  const text = body.trim();
  const json = contentType?.includes('json') || text.startsWith('{');
  try {
    const tree: unknown = json ? JSON.parse(text) : parseXml(text);
    if (!isRecord(tree)) throw new UnreadableCallback('not an object');
    return tree;
  } catch (error) {
    if (error instanceof UnreadableCallback) throw error;
    throw new UnreadableCallback(json ? 'not well-formed JSON' : 'not well-formed XML');
  }
}

function runIdFrom(value: unknown): RunId {
  const parsed = typeof value === 'string' ? runIdRule.parse(value) : undefined;
  if (!parsed?.ok) throw new UnreadableCallback('no run id in the callback');
  return parsed.value;
}

/** One element or the first of several (JSON bodies may carry arrays, XML ones repeat elements). */
function first(value: unknown): Record<string, unknown> | undefined {
  const item = Array.isArray(value) ? value[0] : value;
  return isRecord(item) ? item : undefined;
}
