/**
 * `deploy/prometheus/alerts.yaml`, validated offline: each rule's expression parses under Prometheus's own PromQL
 * grammar (`@prometheus-io/lezer-promql`), every `ci_*` series it names is one the gateway exports, and each rule
 * has what an on-call page needs.
 */
import { readFileSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createMetrics } from '../../src/telemetry/metrics.js';

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const file = new URL('../../deploy/prometheus/alerts.yaml', import.meta.url);
const rules = (parseYaml(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap(
  (group) => group.rules,
);

/** Where PromQL's grammar could not parse the expression (empty: it parsed). */
function syntaxErrors(expr: string): number[] {
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
    },
  });
  return errors;
}

describe('deploy/prometheus/alerts.yaml', () => {
  const exported = new Set(
    createMetrics()
      .registry.getMetricsAsArray()
      .map((metric) => metric.name),
  );

  it('alerts on failure ratio, stuck runs, CI throttling and missing callbacks', () => {
    expect(rules.map((rule) => rule.alert)).toEqual([
      'CiWorkflowFailureRatioHigh',
      'CiWorkflowRunsStuck',
      'CiQuotaThrottling',
      'CiCallbacksNotArriving',
    ]);
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))(
    '%s parses and names only exported series',
    (_, rule) => {
      const expr = rule.expr ?? '';
      expect(syntaxErrors(expr)).toEqual([]);
      const names = [...expr.matchAll(/\b(ci_[a-z_]+)\b/g)].map((match) => match[1]);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(exported, `${name} is not exported`).toContain(name);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical']).toContain(rule.labels?.['severity']);
      expect(rule.annotations?.['summary']).toBeTruthy();
    },
  );

  it('would catch a broken expression', () => {
    expect(syntaxErrors('sum by (bucket) (rate(ci_callbacks_total[5m])')).not.toEqual([]);
  });
});
