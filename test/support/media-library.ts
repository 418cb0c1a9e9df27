/** The neighbour subgraph of the federation tests: a small yoga server over fixed data. */
import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';

export const MEDIA_LIBRARY_SDL = readFileSync(
  new URL('../fixtures/media-library.graphql', import.meta.url),
  'utf8',
);
export const OWNING_TEAM = 'media-platform';

export interface Asset {
  readonly id: string;
  readonly title: string;
  readonly runId: string;
  readonly workflowId: string;
}

export function createMediaLibrary(assets: readonly Asset[]) {
  const byRun = new Map(assets.map((asset) => [asset.runId, asset]));
  const byId = new Map(assets.map((asset) => [asset.id, asset]));
  const resolvers = {
    Query: {
      mediaAssets: (_: unknown, { first }: { first: number }) => {
        const page = assets.slice(0, first);
        return {
          edges: page.map((asset) => ({ cursor: asset.id, node: asset })),
          pageInfo: {
            hasNextPage: assets.length > first,
            hasPreviousPage: false,
            startCursor: page[0]?.id ?? null,
            endCursor: page.at(-1)?.id ?? null,
          },
        };
      },
    },
    MediaAsset: {
      __resolveReference: (reference: { id: string }) => byId.get(reference.id) ?? null,
      lastRun: (asset: Asset) => ({ runId: asset.runId }),
      workflow: (asset: Asset) => ({ workflowId: asset.workflowId }),
    },
    WorkflowExecution: {
      __resolveReference: (reference: { runId: string }) => ({ runId: reference.runId }),
      asset: (execution: { runId: string }) => byRun.get(execution.runId) ?? null,
    },
    Workflow: {
      __resolveReference: (reference: { workflowId: string }) => ({ ...reference, owningTeam: OWNING_TEAM }),
    },
  };
  return createYoga({
    schema: buildSubgraphSchema([{ typeDefs: parse(MEDIA_LIBRARY_SDL), resolvers }]),
    logging: false,
  });
}
