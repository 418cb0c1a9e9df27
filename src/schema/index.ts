/** Builds the executable subgraph schema from the type modules. Importing this has no other side effect. */
import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './workflow-execution.js';

export function buildSchema(): GraphQLSchema {
  return builder.toSubGraphSchema({
    linkUrl: 'https://specs.apollo.dev/federation/v2.6',
    federationDirectives: ['@key', '@shareable'],
  });
}
