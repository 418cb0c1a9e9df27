/** What GraphiQL opens with: queries and a mutation that work on the demo's data. */
export const EXAMPLE_QUERY = `# The buckets this gateway serves (the demo's: three, in two regions, under two accounts, the partner's reached
# through an STS role) and their workflows. Arguments that leave out bucketId mean the default bucket.
query Buckets {
  buckets {
    bucketId
    region
    isDefault
    workflows(first: 5) { edges { node { workflowId name state } } }
  }
}

# The large demo workflow's latest runs. Run with the ▶ button and pick an operation; for the next page, put
# pageInfo.endCursor into the Variables pane below: { "after": "v2.…" }
query RecentExecutions($after: String) {
  workflowExecutions(
    filter: { workflowId: "w5f1e0c8a9b2d4e6f8a0b1c2d3e4f5a6b", states: [SUCCESS, FAILED, RUNNING] }
    first: 5
    after: $after
  ) {
    pageInfo { hasNextPage endCursor }
    edges {
      node { runId objectKey state createdAt failedTask { type message } }
    }
  }
}

# Start a run of the same workflow on an object: it shows at the top of RecentExecutions as RUNNING and finishes
# about 20 seconds later (an object key containing "fail" fails its transcode).
mutation TriggerRun {
  triggerWorkflow(input: { workflowId: "w5f1e0c8a9b2d4e6f8a0b1c2d3e4f5a6b", objectKey: "uploads/my clip.mp4" }) {
    runId
    execution { state tasks { type state job { progress } } }
  }
}
`;
