/** Builds the executable subgraph schema from the type modules. */
import type { GraphQLSchema } from 'graphql';
import { createBuilder, type SchemaOptions } from './builder.js';
import { addWorkflowTypes } from './workflow.js';
import { addWorkflowExecutionTypes } from './workflow-execution.js';

export type { SchemaOptions };

export function buildSchema(options: SchemaOptions = {}): GraphQLSchema {
  const builder = createBuilder(options);
  const executions = addWorkflowExecutionTypes(builder);
  addWorkflowTypes(builder, executions);
  return builder.toSubGraphSchema({
    linkUrl: 'https://specs.apollo.dev/federation/v2.6',
    federationDirectives: ['@key', '@shareable'],
  });
}
