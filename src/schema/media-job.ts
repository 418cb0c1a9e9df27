/** `MediaJob`: the work behind one task, with its progress, errors, outputs and what CI measured of the media. */
import type { MediaInfoSummary } from '../ci/types.js';
import type { Builder } from './builder.js';
import { costs } from './costs.js';
import { JobStateEnum } from './enums.js';

export function registerMediaJob(builder: Builder): void {
  const MediaInfoRef = builder.objectRef<MediaInfoSummary>('MediaInfo').implement({
    description: 'What CI measured of a job’s output, where it says.',
    fields: (t) => ({
      durationSeconds: t.exposeFloat('durationSeconds', { nullable: true }),
      formatName: t.exposeString('formatName', {
        nullable: true,
        description: 'Container format, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.',
      }),
      // Float: a file can outgrow GraphQL's 32-bit Int.
      sizeBytes: t.exposeFloat('sizeBytes', { nullable: true }),
      width: t.exposeInt('width', { nullable: true }),
      height: t.exposeInt('height', { nullable: true }),
    }),
  });

  builder.objectType('MediaJob', {
    description: 'The media job that ran a task: why it failed, how far it got, what it wrote.',
    fields: (t) => ({
      jobId: t.exposeID('jobId', { description: 'CI’s id of the job (`JobId`).' }),
      tag: t.exposeString('tag', { description: 'Kind of job, e.g. `Transcode` or `Snapshot`.' }),
      state: t.expose('state', { type: JobStateEnum }),
      progress: t.exposeInt('progress', {
        nullable: true,
        description: 'Percent done, 0–100, when CI reports it.',
      }),
      code: t.exposeString('code', { nullable: true, description: 'CI’s result code.' }),
      message: t.exposeString('message', {
        nullable: true,
        description: 'CI’s explanation when the job failed.',
      }),
      createdAt: t.expose('createdAt', { type: 'DateTime', nullable: true }),
      startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
      endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
      inputObjectKey: t.exposeString('inputObject', { nullable: true }),
      outputObjectKeys: t.exposeStringList('outputObjects', {
        description: 'Keys of the objects the job wrote.',
      }),
      mediaInfo: t.expose('mediaInfo', { type: MediaInfoRef, nullable: true }),
    }),
  });

  builder.objectField('WorkflowTask', 'job', (t) =>
    t.field({
      ...costs.batchedJobLookup,
      type: 'MediaJob',
      nullable: true,
      description:
        'The media job behind the task, gathered with every other task’s job of the request into one call per ' +
        'few jobs; null when the task has no job or CI no longer knows it.',
      resolve: (task, _args, context) =>
        task.jobId ? context.bucket(task.bucketId).mediaJobs.load(task.jobId) : null,
    }),
  );
}
