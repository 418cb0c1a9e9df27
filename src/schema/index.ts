/**
 * Builds the executable subgraph schema from the schema modules. Each module registers one type (or a type and its
 * small satellites) with its queries, mutations and subscriptions; modules name each other's types, they do not
 * import each other. Registration order is only the order fields are printed in.
 */
import type { GraphQLSchema } from 'graphql';
import { registerBatchTrigger } from './batch-trigger.js';
import { registerBucket } from './bucket.js';
import { type AccessRules, accessRules, type Builder, createBuilder, type SchemaOptions } from './builder.js';
import { registerEnums } from './enums.js';
import { registerMediaJob } from './media-job.js';
import { registerNotifyConfig } from './notify-config.js';
import { registerWorkflow } from './workflow.js';
import { registerWorkflowExecution } from './workflow-execution.js';
import { registerWorkflowExecutionEvent } from './workflow-execution-event.js';
import { registerWorkflowStats } from './workflow-stats.js';

export type { SchemaOptions };

const MODULES: ReadonlyArray<(builder: Builder, access: AccessRules) => void> = [
  registerEnums,
  registerWorkflowExecution,
  registerWorkflow,
  registerWorkflowStats,
  registerNotifyConfig,
  registerMediaJob,
  registerBatchTrigger,
  registerWorkflowExecutionEvent,
  registerBucket,
];

export function buildSchema(options: SchemaOptions = {}): GraphQLSchema {
  const builder = createBuilder(options);
  const access = accessRules(options);
  for (const register of MODULES) register(builder, access);
  return builder.toSubGraphSchema({
    // 2.9 is the first version with the demand-control directives.
    linkUrl: 'https://specs.apollo.dev/federation/v2.9',
    federationDirectives: [
      '@key',
      '@shareable',
      '@tag',
      '@authenticated',
      '@requiresScopes',
      '@cost',
      '@listSize',
    ],
  });
}
