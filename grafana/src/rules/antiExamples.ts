// ANTI-EXAMPLES, for rule tests only: the alerts that failed us, kept so the incident tests can show,
// on the same data, what they did and what our rules do instead. Never deploy these.

import type { YamlValue } from '../yamlFile';

export const ANTI_EXAMPLES_PATH = 'grafana/alerts/tests/naive.rules.yml';

/** 2025-11-26: resolved in every quiet gap and fired again at the next burst (7 pages for one fault). */
export const NAIVE_PURCHASE_FAILURES = {
  alert: 'NaivePizzaPurchaseFailures',
  expr: 'increase(pizza_purchases_total{outcome="failure"}[1m]) > 0',
} as const;

/** 2025-04-08: a raw count tuned for peak traffic; a few failed orders a minute never reached it. */
export const STATIC_THRESHOLD_PIZZA_ERRORS = {
  alert: 'StaticThresholdPizzaErrors',
  expr: 'sum(increase(pizza_purchases_total{outcome="failure"}[5m])) > 10',
} as const;

export const ANTI_EXAMPLES_HEADER = [
  'ANTI-EXAMPLES - test-only rules, NEVER deploy (grafana:publish only reads grafana/alerts/*.yml).',
  'They reproduce the alerts of the 2025-11-26 (flapping) and 2025-04-08 (never fired) incidents so',
  'the incident tests can compare them with grafana/alerts/orders.yml on the same data.',
].join('\n');

export function antiExamplesYaml(): { [key: string]: YamlValue } {
  return {
    groups: [
      {
        name: 'anti-examples-test-only',
        interval: '1m',
        rules: [
          { ...NAIVE_PURCHASE_FAILURES, labels: { anti_example: 'true' } },
          { ...STATIC_THRESHOLD_PIZZA_ERRORS, labels: { anti_example: 'true' } },
        ],
      },
    ],
  };
}
