/** Builds the executable subgraph schema from the type modules. */
import type { GraphQLSchema } from 'graphql';
import { addBatchTriggerTypes } from './batch-trigger.js';
import { accessRules, createBuilder, type SchemaOptions } from './builder.js';
import { addConsoleActions } from './console-actions.js';
import { addLiveTypes } from './live.js';
import { addMediaJobTypes } from './media-job.js';
import { addNotifyConfigTypes } from './notify-config.js';
import { addWorkflowTypes } from './workflow.js';
import { addWorkflowExecutionTypes } from './workflow-execution.js';

export type { SchemaOptions };

export function buildSchema(options: SchemaOptions = {}): GraphQLSchema {
  const builder = createBuilder(options);
  const access = accessRules(options);
  const executions = addWorkflowExecutionTypes(builder, access);
  const workflows = addWorkflowTypes(builder, executions, access);
  addNotifyConfigTypes(builder, workflows);
  const jobs = addMediaJobTypes(builder, executions);
  const batchTriggers = addBatchTriggerTypes(builder, executions, workflows, jobs, access);
  addConsoleActions(builder, executions, workflows, batchTriggers, access);
  addLiveTypes(builder, executions, access);
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
