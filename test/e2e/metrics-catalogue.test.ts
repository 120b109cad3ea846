import { metricFamiliesUsed } from '../grafana/metricNames';
import { buildTestApp, type TestApp } from '../helpers/app';

/** Dashboards and alerts are only as good as the series they read: each one must exist in the service's /metrics. */
describe('every metric named in a rule or dashboard query', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ defaultMetrics: true });
  });
  afterAll(() => t.close());

  test('when /metrics is scraped, then it declares every metric family the rules and dashboards use', async () => {
    const text = (await t.http.get('/metrics')).text;
    const declared = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const used = metricFamiliesUsed();
    expect(used.length).toBeGreaterThan(15);
    expect(used.filter((family) => !declared.has(family))).toEqual([]);
  });
});
