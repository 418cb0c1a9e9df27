/**
 * What fields cost, declared for a router's demand control (`@cost`, `@listSize`) from what they cost CI. One CI
 * call weighs {@link CI_CALL}; everything else keeps the routers' default (1 per object, 0 per scalar or enum), so
 * a query's estimate is dominated by the calls it will make.
 */
export const CI_CALL = 10;

/** How many tasks a run is assumed to have, for estimates: a generous bound for a media workflow's steps. */
const ASSUMED_TASKS_PER_RUN = 10;

export const costs = {
  /** A page of executions: one list call per 100 runs; its size is `first`, and `edges` is that long. */
  executionsPage: {
    cost: CI_CALL,
    listSize: { slicingArguments: ['first'], sizedFields: ['edges'], requireOneSlicingArgument: false },
  },
  /** One detail call per run (none for a finished run read before). */
  executionDetail: { cost: CI_CALL },
  /**
   * The run's tasks come from its detail call. Routers multiply a list field's weight by the list's size, so the
   * call's weight is spread over the tasks a run is assumed to have.
   */
  tasks: { cost: CI_CALL / ASSUMED_TASKS_PER_RUN, listSize: { assumedSize: ASSUMED_TASKS_PER_RUN } },
  /** One lookup call, by itself. */
  workflowLookup: { cost: CI_CALL },
  /** Gathered with every other run's workflow into one lookup per 100 workflows: a tenth of a call each. */
  batchedWorkflowLookup: { cost: 1 },
  /** Gathered with the request's other jobs into one call per 10: a call's weight over 10 jobs. */
  batchedJobLookup: { cost: 1 },
  /** A page of batch triggers: one list call per 100. */
  batchTriggersPage: {
    cost: CI_CALL,
    listSize: { slicingArguments: ['first'], sizedFields: ['edges'], requireOneSlicingArgument: false },
  },
  /** A change: one call, and then a read of what changed. */
  action: { cost: 2 * CI_CALL },
};
