/** `MediaJob`: the work behind one task, with its progress, errors, outputs and what CI measured of the media. */
import { mediaJobIdRule } from '../ci/inputs.js';
import type { JobState, MediaInfoSummary, MediaJob } from '../ci/types.js';
import type { Builder } from './builder.js';
import { costs } from './costs.js';
import { parseReference } from './inputs.js';
import type { ExecutionTypes } from './workflow-execution.js';

export function addMediaJobTypes(builder: Builder, executions: ExecutionTypes) {
  const JobStateEnum = builder.enumType('JobState', {
    description: 'Where one of CI’s jobs (a media job, a batch trigger) is in its life.',
    values: {
      SUBMITTED: { value: 'Submitted' as JobState, description: 'Queued, not started.' },
      RUNNING: { value: 'Running' as JobState },
      SUCCESS: { value: 'Success' as JobState },
      FAILED: { value: 'Failed' as JobState },
      PAUSE: { value: 'Pause' as JobState, description: 'Waiting: its queue is paused.' },
      CANCEL: { value: 'Cancel' as JobState },
    },
  });

  const MediaInfoRef = builder.objectRef<MediaInfoSummary>('MediaInfo').implement({
    description: 'What CI measured of a job’s output, where it says.',
    fields: (t) => ({
      durationSeconds: t.float({ nullable: true, resolve: (info) => info.durationSeconds ?? null }),
      formatName: t.string({
        nullable: true,
        description: 'Container format, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.',
        resolve: (info) => info.formatName ?? null,
      }),
      // Float: a file can outgrow GraphQL's 32-bit Int.
      sizeBytes: t.float({ nullable: true, resolve: (info) => info.sizeBytes ?? null }),
      width: t.int({ nullable: true, resolve: (info) => info.width ?? null }),
      height: t.int({ nullable: true, resolve: (info) => info.height ?? null }),
    }),
  });

  const MediaJobRef = builder.objectRef<MediaJob>('MediaJob').implement({
    description: 'The media job that ran a task: why it failed, how far it got, what it wrote.',
    fields: (t) => ({
      jobId: t.exposeID('jobId', { description: 'CI’s id of the job (`JobId`).' }),
      tag: t.exposeString('tag', { description: 'Kind of job, e.g. `Transcode` or `Snapshot`.' }),
      state: t.field({ type: JobStateEnum, resolve: (job) => job.state }),
      progress: t.int({
        nullable: true,
        description: 'Percent done, 0–100, when CI reports it.',
        resolve: (job) => job.progress ?? null,
      }),
      code: t.string({
        nullable: true,
        description: 'CI’s result code.',
        resolve: (job) => job.code ?? null,
      }),
      message: t.string({
        nullable: true,
        description: 'CI’s explanation when the job failed.',
        resolve: (job) => job.message ?? null,
      }),
      createdAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.createdAt ?? null }),
      startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.startedAt ?? null }),
      endedAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.endedAt ?? null }),
      inputObjectKey: t.string({ nullable: true, resolve: (job) => job.inputObject ?? null }),
      outputObjectKeys: t.stringList({
        description: 'Keys of the objects the job wrote.',
        resolve: (job) => [...job.outputObjects],
      }),
      mediaInfo: t.field({ type: MediaInfoRef, nullable: true, resolve: (job) => job.mediaInfo ?? null }),
    }),
  });

  builder.objectField(executions.WorkflowTaskRef, 'job', (t) =>
    t.field({
      ...costs.batchedJobLookup,
      type: MediaJobRef,
      nullable: true,
      description:
        'The media job behind the task, gathered with every other task’s job of the request into one call per ' +
        'few jobs; null when the task has no job or CI no longer knows it.',
      resolve: (task, _args, context) => {
        const jobId = parseReference(mediaJobIdRule, task.jobId);
        return jobId === undefined ? null : context.mediaJobs.load(jobId);
      },
    }),
  );

  return { JobStateEnum };
}

export type MediaJobTypes = ReturnType<typeof addMediaJobTypes>;
