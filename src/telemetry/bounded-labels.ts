/**
 * A label whose values come from outside (callers' operation names, CI's workflow ids) must not grow the series
 * count without bound: the first `limit` acceptable values get series of their own, later ones share `other`.
 */
export class BoundedLabels {
  readonly #seen = new Set<string>();

  constructor(
    private readonly limit: number,
    private readonly acceptable: (value: string) => boolean = () => true,
  ) {}

  of(value: string): string {
    if (this.#seen.has(value)) return value;
    if (!this.acceptable(value) || this.#seen.size >= this.limit) return 'other';
    this.#seen.add(value);
    return value;
  }
}
