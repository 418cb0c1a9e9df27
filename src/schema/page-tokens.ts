/** What paging has learnt about the upstream's tokens, shared by every request of the process. */
export class PageTokenKnowledge {
  /** Set once the upstream has refused a token continued with another page size. */
  resizeRefused = false;
}
