/**
 * The emulator's side of CI's workflow callbacks: while a callback URL is set, every task and run started here
 * that finishes is posted to it as CI posts them (XML, `<Response>` root, CI's spaced time format). Demo mode points
 * it at the gateway's own callback URL, so a subscription in GraphiQL updates by itself.
 */
import type { DueNotification, EmulatorWorld } from './world.js';
import { spacedTime, xmlDocument } from './xml-writer.js';

/** How often due callbacks are looked for. */
const CHECK_INTERVAL_MS = 500;

export interface CallbackSender {
  stop(): void;
}

export function startCallbackSender(world: EmulatorWorld, now: () => Date, url: string): CallbackSender {
  const timer = setInterval(() => {
    for (const notification of world.dueNotifications(now())) {
      void fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/xml' },
        body: callbackBody(notification),
      }).catch(() => {
        // CI does not wait on a receiver that is down; neither does the emulator.
      });
    }
  }, CHECK_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export function callbackBody(notification: DueNotification): string {
  const { execution, task } = notification;
  if (notification.event === 'WorkflowFinish' || !task) {
    return xmlDocument('Response', {
      EventName: 'WorkflowFinish',
      WorkflowExecution: {
        WorkflowId: execution.workflowId,
        WorkflowName: execution.workflowName,
        RunId: execution.runId,
        State: execution.state,
        BucketId: 'demo-1250000000',
        Object: execution.objectKey,
        CreateTime: spacedTime(execution.createdAt),
        Tasks: execution.tasks.map((t) => ({
          Type: t.type,
          CreateTime: spacedTime(t.createdAt),
          EndTime: spacedTime(t.endedAt),
          State: t.state,
          JobId: t.jobId,
          Name: t.name,
          TemplateId: t.templateId,
          TemplateName: t.templateName,
        })),
      },
    });
  }
  return xmlDocument('Response', {
    EventName: 'TaskFinish',
    JobsDetail: {
      Code: task.code,
      Message: task.message,
      JobId: task.jobId,
      Tag: task.type,
      Progress: '100',
      State: task.state,
      CreationTime: spacedTime(task.createdAt),
      EndTime: spacedTime(task.endedAt),
      Input: { Object: execution.objectKey },
      Workflow: { RunId: execution.runId, WorkflowId: execution.workflowId, Name: task.name },
    },
  });
}
