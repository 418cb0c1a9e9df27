/**
 * `Workflow.notifyConfig` and `Workflow.callbacksReachGateway`: what CI is told to do when a run or task finishes,
 * and whether that reaches this gateway, so an operator can see why a console does not update by itself.
 */
import type { NotifyConfig } from '../ci/types.js';
import type { Builder } from './builder.js';

const MASK = '****';
/** Path segments this long are taken for tokens (this gateway's own is 32+ characters). */
const SECRET_SEGMENT_LENGTH = 16;

/** The URL with whatever may be a secret masked: user info, query values, long path segments, the fragment. */
export function maskUrl(url: string): string {
  if (!URL.canParse(url)) return MASK;
  const masked = new URL(url);
  if (masked.username || masked.password) {
    masked.username = MASK;
    masked.password = '';
  }
  masked.pathname = masked.pathname
    .split('/')
    .map((segment) => (segment.length >= SECRET_SEGMENT_LENGTH ? MASK : segment))
    .join('/');
  for (const name of new Set(masked.searchParams.keys())) masked.searchParams.set(name, MASK);
  masked.hash = '';
  return masked.toString();
}

/** Events of CI's that live updates listen for. */
const USEFUL_EVENTS = ['WorkflowFinish', 'TaskFinish'];

/**
 * True when CI posts a workflow's run or task events to this gateway's callback URL; false when it posts them
 * elsewhere or not at all; null when that cannot be told (no public base URL or callback token configured).
 */
export function callbacksReachGateway(
  config: NotifyConfig | undefined,
  bucketId: string,
  leadsHere: ((url: string, bucketId: string) => boolean | undefined) | undefined,
): boolean | null {
  if (!config?.enabled || config.type?.toLowerCase() !== 'url' || config.url === undefined) return false;
  if (config.events.length > 0 && !config.events.some((event) => USEFUL_EVENTS.includes(event))) return false;
  return leadsHere?.(config.url, bucketId) ?? null;
}

export function registerNotifyConfig(builder: Builder): void {
  const NotifyConfigRef = builder.objectRef<NotifyConfig>('WorkflowNotifyConfig').implement({
    description:
      'Where CI reports a workflow’s finished tasks and runs: its Start node’s `NotifyConfig`, as CI holds it. ' +
      'Read-only; change it in CI.',
    fields: (t) => ({
      enabled: t.exposeBoolean('enabled', { description: '`State` is `On` (or left to its default).' }),
      type: t.exposeString('type', {
        nullable: true,
        description: 'CI’s `Type`: `Url` for HTTP callbacks, `TDMQ` for a message queue.',
      }),
      url: t.string({
        nullable: true,
        description: `The callback URL, with anything that may be a secret (tokens, query values) shown as ${MASK}.`,
        resolve: (config) => (config.url === undefined ? null : maskUrl(config.url)),
      }),
      events: t.exposeStringList('events', {
        description: 'CI’s `Event` names: `TaskFinish`, `WorkflowFinish`.',
      }),
      resultFormat: t.exposeString('resultFormat', { nullable: true, description: '`XML` or `JSON`.' }),
      queueName: t.exposeString('queueName', {
        nullable: true,
        description: 'The TDMQ topic or queue, for `TDMQ`.',
      }),
    }),
  });

  builder.objectFields('Workflow', (t) => ({
    notifyConfig: t.expose('notifyConfig', {
      type: NotifyConfigRef,
      nullable: true,
      description: 'CI’s callback settings for this workflow; null when none are configured.',
    }),
    callbacksReachGateway: t.boolean({
      nullable: true,
      description:
        'Whether CI posts this workflow’s finished tasks and runs to this gateway’s callback URL, so subscriptions ' +
        'update at once instead of at the next poll. Null when the gateway cannot tell: it was given no ' +
        '`PUBLIC_CALLBACK_BASE_URL` or no `CI_CALLBACK_TOKEN`.',
      resolve: (workflow, _args, context) =>
        callbacksReachGateway(
          workflow.notifyConfig,
          workflow.bucketId,
          context.services.callbacksReachGateway,
        ),
    }),
  }));
}
