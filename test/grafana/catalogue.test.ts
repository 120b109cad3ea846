import { DEFAULT_METRICS, MetricSpec, SERVICE_METRICS } from '../../grafana/src/catalogue';
import { createMetrics } from '../../src/shared/metrics/metrics';

/** What a registry really registers, in the catalogue's shape. */
function registered(options: { defaultMetrics: boolean }): Record<string, MetricSpec> {
  const { registry } = createMetrics(options);
  const specs: Record<string, MetricSpec> = {};
  for (const metric of registry.getMetricsAsArray()) {
    const { name, labelNames } = metric as unknown as { name: string; labelNames?: readonly string[] };
    const type = (metric as unknown as { type?: string }).type ?? (metric.constructor.name.toLowerCase() as string);
    specs[name] = { type: type as MetricSpec['type'], labels: [...(labelNames ?? [])] };
  }
  return specs;
}

describe('metric catalogue (grafana/src/catalogue.ts) and the service registry (src/shared/metrics/metrics.ts)', () => {
  it('lists exactly the metrics the service registers, with their types and label names', () => {
    const actual = registered({ defaultMetrics: false });
    expect(Object.keys(actual).sort()).toEqual(Object.keys(SERVICE_METRICS).sort());
    for (const [name, spec] of Object.entries(actual)) {
      expect({ name, ...spec, labels: [...spec.labels].sort() }).toEqual({ name, ...SERVICE_METRICS[name], labels: [...SERVICE_METRICS[name].labels].sort() });
    }
  });

  it("lists every default metric prom-client registers on this platform", () => {
    const service = new Set(Object.keys(SERVICE_METRICS));
    const defaults = Object.entries(registered({ defaultMetrics: true })).filter(([name]) => !service.has(name));
    expect(defaults.length).toBeGreaterThan(10);
    for (const [name, spec] of defaults) {
      expect({ name, type: spec.type }).toEqual({ name, type: DEFAULT_METRICS[name]?.type });
    }
  });
});
