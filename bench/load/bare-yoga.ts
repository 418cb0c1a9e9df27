/**
 * The second baseline: graphql-yoga with its defaults, a hand-written SDL schema and resolvers over the same
 * upstream work as the proxy (`baseline-upstream.ts`). What any GraphQL server pays before it does anything of its
 * own; the gateway's extra work (limits, auth, metrics, error mapping, caching, request lifetimes) is the difference.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { type Execution, executions, tasks } from './baseline-upstream.js';

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query {
      workflowExecutions(filter: ExecutionFilter!, first: Int!): WorkflowExecutionConnection!
    }
    input ExecutionFilter {
      workflowId: ID!
    }
    type WorkflowExecutionConnection {
      edges: [WorkflowExecutionEdge!]!
      pageInfo: PageInfo!
    }
    type WorkflowExecutionEdge {
      cursor: String!
      node: WorkflowExecution!
    }
    type PageInfo {
      hasNextPage: Boolean!
      endCursor: String
    }
    type WorkflowExecution {
      runId: ID!
      objectKey: String!
      state: String!
      createdAt: String!
      tasks: [Task!]!
    }
    type Task {
      type: String
      state: String
    }
  `,
  resolvers: {
    Query: {
      workflowExecutions: (_: unknown, args: { filter: { workflowId: string }; first: number }) =>
        executions(args.filter.workflowId, args.first),
    },
    WorkflowExecution: {
      tasks: (execution: Execution) => tasks(execution.runId),
    },
  },
});

const yoga = createYoga({ schema, graphiql: false, landingPage: false, logging: 'warn' });
const server = createServer(yoga);
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', port: (server.address() as AddressInfo).port })}\n`,
  );
});
