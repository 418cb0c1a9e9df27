/**
 * The Pothos builder: plugin list, scalars, the context type every resolver sees, and the registry of object types
 * shared between schema modules ({@link SharedObjects}). A builder is made per schema because the schema depends on
 * the configuration (the scope names it declares, whether `Query.node` exists).
 */
import SchemaBuilder from '@pothos/core';
import DirectivePlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { DEFAULT_SCOPES } from '../defaults.js';
import { ErrorCode } from '../error-codes.js';
import type { GraphQLContext } from './context.js';
import type { SharedObjects } from './shapes.js';

export interface SchemaOptions {
  /**
   * Adds `Query.node` and `Query.nodes` for standalone use. Off in the subgraph: two subgraphs that both resolve
   * `Query.node` cannot compose into one supergraph.
   */
  readonly relayNodeQueries?: boolean;
  /** The scope reading needs, declared in the schema for the router (`@requiresScopes`) and checked here. */
  readonly readScope?: string | undefined;
  /** The scope changing things needs. */
  readonly writeScope?: string | undefined;
}

/** A new builder per schema, so options such as {@link SchemaOptions.relayNodeQueries} hold no global state. */
export function createBuilder(options: SchemaOptions = {}) {
  const nodeQueries = options.relayNodeQueries === true;
  const builder = new SchemaBuilder<{
    Context: GraphQLContext;
    /** `read` and `write`: whether the caller holds the configured scope (always, when tokens are not required). */
    AuthScopes: { read: boolean; write: boolean };
    Scalars: {
      DateTime: { Input: Date; Output: Date };
      ID: { Input: string; Output: string };
    };
    Objects: SharedObjects;
    DefaultFieldNullability: false;
    DefaultEdgesNullability: false;
    DefaultNodeNullability: false;
  }>({
    plugins: [ScopeAuthPlugin, DirectivePlugin, RelayPlugin, FederationPlugin],
    scopeAuth: {
      authScopes: (context) => ({ read: context.caller.mayRead, write: context.caller.mayWrite }),
      unauthorizedError: () =>
        new GraphQLError('The caller’s token does not grant the scope this field needs.', {
          extensions: { code: ErrorCode.FORBIDDEN },
        }),
      // A subscription's `subscribe` starts upstream work: check the caller's scopes before it runs, not per event.
      authorizeOnSubscribe: true,
    },
    // Fields are non-null unless they say otherwise: nulls in a response mean something.
    defaultFieldNullability: false,
    relay: {
      clientMutationId: 'omit',
      cursorType: 'String',
      edgesFieldOptions: { nullable: false },
      nodeFieldOptions: { nullable: false },
      // A second subgraph with its own PageInfo must compose with ours.
      pageInfoTypeOptions: { shareable: true },
      nodeQueryOptions: nodeQueries ? {} : false,
      nodesQueryOptions: nodeQueries ? {} : false,
      // What `Query.node` loads carries its type, so no type needs to guess its objects from their properties.
      brandLoadedObjects: true,
    },
  });

  builder.addScalarType('DateTime', DateTimeResolver, {
    description:
      'An instant as an RFC 3339 date-time string. Inputs may use any UTC offset (`2026-11-01T08:00:00+08:00`); ' +
      'outputs are in UTC (`2026-11-01T00:00:00.000Z`).',
  });
  builder.queryType({});
  builder.mutationType({ description: 'Changes: each needs the write scope.' });
  builder.subscriptionType({ description: 'Live updates, over SSE or WebSocket.' });
  return builder;
}

export type Builder = ReturnType<typeof createBuilder>;

/**
 * The options that guard a type or field: checked here (`authScopes`, a `FORBIDDEN` error) and declared for the
 * router (`@authenticated`, `@requiresScopes`), from one place so the two never disagree.
 */
export function accessRules(options: SchemaOptions = {}) {
  const rule = (scope: 'read' | 'write', name: string) => ({
    authScopes: { [scope]: true } as { read: true } | { write: true },
    authenticated: true,
    requiresScopes: [[name]],
  });
  return {
    read: rule('read', options.readScope ?? DEFAULT_SCOPES.read),
    write: rule('write', options.writeScope ?? DEFAULT_SCOPES.write),
  };
}

export type AccessRules = ReturnType<typeof accessRules>;
/** The builder's type parameters, for helpers that define fields outside a type's own definition. */
export type BuilderTypes = Builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never;
