import { Counter } from 'prom-client';
import { registeredMetrics, renderMetricsReference, type RegisteredMetric } from '../../../scripts/docs/metrics';

describe('docs/reference/metrics.md (npm run docs)', () => {
  const service = registeredMetrics({ defaultMetrics: false });

  it('has a row for every metric the service registers, with its type and labels', () => {
    const table = renderMetricsReference();
    expect(service.length).toBeGreaterThan(10);
    for (const { name, type, labelNames } of service) {
      const labels = labelNames?.length ? labelNames.map((label) => `\`${label}\``).join(', ') : '–';
      expect(table).toContain(`| \`${name}\` | ${type} | ${labels} |`);
    }
  });

  it('sums up the default collectors in one line instead of a row each', () => {
    const table = renderMetricsReference();
    expect(table).toContain('(`nodejs_*`, `process_*`)');
    expect(table).not.toContain('| `process_');
  });

  it('changes when a metric changes in a scratch registry', () => {
    const changed = new Counter({ name: 'http_requests_total', help: 'a scratch help text', labelNames: ['method'], registers: [] });
    const scratch = service.map((metric) => (metric.name === 'http_requests_total' ? (changed as unknown as RegisteredMetric) : metric));
    const scratchTable = renderMetricsReference(scratch);
    expect(scratchTable).not.toBe(renderMetricsReference());
    expect(scratchTable).toContain('| `http_requests_total` | counter | `method` | a scratch help text |');
  });
});
