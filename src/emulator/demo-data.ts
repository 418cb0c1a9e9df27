/**
 * The emulator's deterministic demo data: the same bytes on every machine and every run, so tests and a new
 * user's first queries see the same executions.
 *
 * - "transcode-and-snapshot": 257 executions over six days, every state, three batch-trigger jobs, several runs
 *   sharing a creation second (ties must page stably), object keys with CJK, accents, spaces, `+`, `&` and `/`.
 * - "thumbnail-only": exactly one execution.
 * - "archive-audio": paused, never run.
 */
import { createHash } from 'node:crypto';
import { assume, batchJobIdRule, workflowIdRule } from '../ci/inputs.js';
import type { ExecutionState, WorkflowState } from '../ci/types.js';

export interface DemoTask {
  readonly type: string;
  readonly name: string;
  readonly state: string;
  readonly jobId: string;
  readonly templateId: string;
  readonly templateName: string;
  readonly code: string;
  readonly message: string;
  readonly createdAt: Date;
  readonly startedAt: Date | undefined;
  readonly endedAt: Date | undefined;
}

export interface DemoExecution {
  readonly runId: string;
  readonly workflowId: string;
  readonly workflowName: string;
  readonly objectKey: string;
  readonly state: ExecutionState;
  readonly createdAt: Date;
  readonly batchJobId: string | undefined;
  readonly tasks: readonly DemoTask[];
}

export interface DemoWorkflow {
  readonly workflowId: string;
  readonly name: string;
  readonly state: WorkflowState;
  readonly bucketId: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly executions: readonly DemoExecution[];
}

export interface Dataset {
  readonly workflows: readonly DemoWorkflow[];
}

export const DEMO_BUCKET = 'demo-1250000000';

export const DEMO_WORKFLOW_IDS = {
  large: assume(workflowIdRule, 'w5f1e0c8a9b2d4e6f8a0b1c2d3e4f5a6b'),
  single: assume(workflowIdRule, 'w0a1b2c3d4e5f60718293a4b5c6d7e8f9'),
  empty: assume(workflowIdRule, 'wfedcba9876543210fedcba9876543210'),
} as const;

export const LARGE_WORKFLOW_EXECUTION_COUNT = 257;

const OBJECT_KEYS = [
  'videos/2026/开幕式 主会场.mp4',
  'uploads/a+b/clip 01.mov',
  'média/été/bande-annonce.mp4',
  'raw/猫 & 狗/第1集.mkv',
  'live/recording+final (1).mp4',
  'dir/测试 file.mp4',
  'plain/intro.mp4',
  'ugc/user 42/vlog #7 — día 3.mp4',
] as const;

/** Weighted so that most runs succeed, as in a healthy pipeline, but every state appears many times. */
const STATE_WHEEL: readonly ExecutionState[] = [
  ...Array<ExecutionState>(12).fill('Success'),
  ...Array<ExecutionState>(3).fill('Failed'),
  ...Array<ExecutionState>(2).fill('Running'),
  'Pause',
  'Cancel',
];

/** The batch-trigger jobs that started some of the large workflow's runs. */
export const DEMO_BATCH_JOBS = [
  { jobId: assume(batchJobIdRule, 'b7e1f0a2b3c4d5e6f7a8b9c0d1e2f3a4b'), from: 20, count: 40 },
  { jobId: assume(batchJobIdRule, 'b1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d'), from: 120, count: 25 },
  { jobId: assume(batchJobIdRule, 'b9f8e7d6c5b4a39281706f5e4d3c2b1a0'), from: 200, count: 1 },
] as const;

const DAY_MS = 86_400_000;

export function createDemoDataset(): Dataset {
  const random = mulberry32(20_261_101);
  const start = Date.parse('2026-11-01T08:00:00+08:00');

  const largeName = 'transcode-and-snapshot';
  const large: DemoExecution[] = [];
  let at = start;
  for (let index = 0; index < LARGE_WORKFLOW_EXECUTION_COUNT; index += 1) {
    // Six days at roughly 43 runs a day; every 25th run shares its second with the one before.
    if (index % 25 !== 0 || index === 0)
      at +=
        Math.floor(((0.2 + random() * 1.6) * (6 * DAY_MS)) / LARGE_WORKFLOW_EXECUTION_COUNT / 1000) * 1000;
    const state = STATE_WHEEL[Math.floor(random() * STATE_WHEEL.length)] ?? 'Success';
    const objectKey = OBJECT_KEYS[index % OBJECT_KEYS.length] ?? 'plain/intro.mp4';
    const job = DEMO_BATCH_JOBS.find((j) => index >= j.from && index < j.from + j.count);
    large.push(
      execution(DEMO_WORKFLOW_IDS.large, largeName, index, objectKey, state, new Date(at), job?.jobId),
    );
  }

  const singleName = 'thumbnail-only';
  const single = [
    execution(
      DEMO_WORKFLOW_IDS.single,
      singleName,
      0,
      'covers/封面 final+v2.png',
      'Success',
      new Date(start + 3 * DAY_MS),
      undefined,
    ),
  ];

  return {
    workflows: [
      {
        workflowId: DEMO_WORKFLOW_IDS.large,
        name: largeName,
        state: 'Active',
        bucketId: DEMO_BUCKET,
        createdAt: new Date('2026-10-30T10:15:00+08:00'),
        updatedAt: new Date('2026-10-31T09:00:00+08:00'),
        executions: large,
      },
      {
        workflowId: DEMO_WORKFLOW_IDS.single,
        name: singleName,
        state: 'Active',
        bucketId: DEMO_BUCKET,
        createdAt: new Date('2026-10-30T11:00:00+08:00'),
        updatedAt: new Date('2026-10-30T11:00:00+08:00'),
        executions: single,
      },
      {
        workflowId: DEMO_WORKFLOW_IDS.empty,
        name: 'archive-audio',
        state: 'Paused',
        bucketId: DEMO_BUCKET,
        createdAt: new Date('2026-10-29T16:20:00+08:00'),
        updatedAt: new Date('2026-11-02T08:45:00+08:00'),
        executions: [],
      },
    ],
  };
}

/**
 * A smaller bucket of its own for the emulated cloud: one active workflow (its id derived from the bucket, so no id
 * is shared with another bucket) with `runs` runs over the demo's first days, in every state.
 */
export function createBucketDataset(bucketId: string, workflowName: string, runs: number): Dataset {
  const random = mulberry32(runs * 7_919 + bucketId.length);
  const workflowId = `w${hex(`${bucketId}/${workflowName}`)}`;
  const start = Date.parse('2026-11-01T09:00:00+08:00');
  const executions = Array.from({ length: runs }, (_, index) =>
    execution(
      workflowId,
      workflowName,
      index,
      OBJECT_KEYS[(index * 3) % OBJECT_KEYS.length] ?? 'plain/intro.mp4',
      STATE_WHEEL[Math.floor(random() * STATE_WHEEL.length)] ?? 'Success',
      new Date(start + index * 47 * 60_000),
      undefined,
    ),
  );
  return {
    workflows: [
      {
        workflowId,
        name: workflowName,
        state: 'Active',
        bucketId,
        createdAt: new Date('2026-10-31T10:00:00+08:00'),
        updatedAt: new Date('2026-10-31T10:00:00+08:00'),
        executions,
      },
    ],
  };
}

function execution(
  workflowId: string,
  workflowName: string,
  index: number,
  objectKey: string,
  state: ExecutionState,
  createdAt: Date,
  batchJobId: string | undefined,
): DemoExecution {
  const runId = `i${hex(`${workflowId}/${index}`)}`;
  return {
    runId,
    workflowId,
    workflowName,
    objectKey,
    state,
    createdAt,
    batchJobId,
    tasks: tasksFor(runId, state, createdAt),
  };
}

/** A snapshot then a transcode; how far they got follows the execution's state. */
function tasksFor(runId: string, state: ExecutionState, createdAt: Date): DemoTask[] {
  const at = (seconds: number) => new Date(createdAt.getTime() + seconds * 1000);
  const task = (type: string, order: number, taskState: string, code = 'Success', message = ''): DemoTask => {
    const started = taskState === 'Pause' || taskState === 'Cancel' ? undefined : at(order * 30 + 2);
    const ended = taskState === 'Success' || taskState === 'Failed' ? at(order * 30 + 25) : undefined;
    return {
      type,
      name: `${type}_${1_581_665_960_536 + order}`,
      state: taskState,
      jobId: `j${hex(`${runId}/${type}`)}`,
      templateId:
        type === 'Snapshot' ? 't0a1b2c3d4e5f60718293a4b5c6d7e8f9' : 't1f2e3d4c5b6a79808f7e6d5c4b3a2918',
      templateName: type === 'Snapshot' ? 'snapshot-1080p' : 'h264-720p',
      code: taskState === 'Success' ? 'Success' : code,
      message,
      createdAt: at(order * 30),
      startedAt: started,
      endedAt: ended,
    };
  };
  switch (state) {
    case 'Success':
      return [task('Snapshot', 0, 'Success'), task('Transcode', 1, 'Success')];
    case 'Failed':
      return [
        task('Snapshot', 0, 'Success'),
        task('Transcode', 1, 'Failed', 'InternalError', 'transcode failed: unsupported codec in source'),
      ];
    case 'Running':
      return [task('Snapshot', 0, 'Success'), task('Transcode', 1, 'Running', '', '')];
    case 'Pause':
      return [task('Snapshot', 0, 'Pause', '', 'queue paused')];
    case 'Cancel':
      return [task('Snapshot', 0, 'Cancel', '', 'cancelled by batch job')];
  }
}

function hex(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 32);
}

/** A tiny seeded PRNG: deterministic demo data without a dependency. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
