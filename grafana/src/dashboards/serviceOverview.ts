import { alertList, dashboard, JsonObject, logs, logStream, row, sel, stat, timeseries, DashboardIdentity } from './panels';

export const SERVICE_OVERVIEW: DashboardIdentity = {
  uid: 'jwt-pizza-service-overview',
  slug: 'jwt-pizza-service-overview',
  title: 'JWT Pizza / Service overview',
};

/** Panel ids other files link to (alert annotations). */
export const SERVICE_OVERVIEW_PANELS = {
  errorRatio: 12,
  latency: 15,
} as const;

const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;
const requests = (...matchers: string[]) => sel('http_requests_total', ...matchers);
const durationBuckets = sel('http_request_duration_seconds_bucket');

export function buildServiceOverview(): JsonObject {
  return dashboard({
    ...SERVICE_OVERVIEW,
    description: 'RED view of the HTTP API: requests per minute, errors, latency, with the error log.',
    tags: ['red', 'http'],
    panels: [
      row(1, 'At a glance'),
      stat({ id: 2, title: 'Requests / min', query: { expr: `sum(${rate(requests())}) * 60` }, decimals: 1 }),
      stat({
        id: 3,
        title: '5xx ratio (5m)',
        description: 'Share of answered requests with a 5xx status over the last 5 minutes.',
        query: { expr: `sum(rate(${requests('status_code=~"5.."')}[5m])) / sum(rate(${requests()}[5m]))` },
        unit: 'percentunit',
        decimals: 2,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 0.01, color: 'orange' },
          { value: 0.05, color: 'red' },
        ],
      }),
      stat({
        id: 4,
        title: 'p99 latency (5m)',
        query: { expr: `histogram_quantile(0.99, sum by (le) (rate(${durationBuckets}[5m])))` },
        unit: 's',
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 0.5, color: 'orange' },
          { value: 1, color: 'red' },
        ],
      }),
      stat({ id: 5, title: 'Active users', query: { expr: `sum(${sel('active_users')})` } }),
      alertList({ id: 6, title: 'Firing alerts (pizza-oncall)', labelFilter: 'team=pizza-oncall', w: 8, h: 4 }),
      row(7, 'Traffic'),
      timeseries({
        id: 8,
        title: 'Requests per minute by method',
        queries: [{ expr: `sum by (method) (${rate(requests())}) * 60`, legend: '{{method}}' }],
        unit: 'reqpm',
        stack: true,
      }),
      timeseries({
        id: 9,
        title: 'Requests per minute by route',
        description: 'Route templates; "unmatched" collects 404s and scanner probes.',
        queries: [{ expr: `sum by (method, route) (${rate(requests())}) * 60`, legend: '{{method}} {{route}}' }],
        unit: 'reqpm',
      }),
      timeseries({
        id: 10,
        title: 'Responses per minute by status code',
        queries: [{ expr: `sum by (status_code) (${rate(requests())}) * 60`, legend: '{{status_code}}' }],
        unit: 'reqpm',
        stack: true,
        w: 24,
      }),
      row(11, 'Errors'),
      timeseries({
        id: SERVICE_OVERVIEW_PANELS.errorRatio,
        title: 'Error ratio (5xx, 4xx)',
        description: 'Http5xxRatioHigh fires above 5% of non-probe traffic (failed purchases excluded: PizzaPurchaseFailures covers them).',
        queries: [
          { expr: `sum(${rate(requests('status_code=~"5.."'))}) / sum(${rate(requests())})`, legend: '5xx' },
          { expr: `sum(${rate(requests('status_code=~"4.."'))}) / sum(${rate(requests())})`, legend: '4xx' },
        ],
        unit: 'percentunit',
        min: 0,
        showThresholds: true,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 0.05, color: 'red' },
        ],
      }),
      timeseries({
        id: 13,
        title: '5xx per minute by route',
        queries: [{ expr: `sum by (method, route, status_code) (${rate(requests('status_code=~"5.."'))}) * 60`, legend: '{{status_code}} {{method}} {{route}}' }],
        unit: 'reqpm',
      }),
      row(14, 'Latency'),
      timeseries({
        id: SERVICE_OVERVIEW_PANELS.latency,
        title: 'Latency p50 / p95 / p99',
        description: 'Dots are exemplars: a traced request in that latency bucket; click one for its trace (Tempo).',
        queries: [0.5, 0.95, 0.99].map((q) => ({
          expr: `histogram_quantile(${q}, sum by (le) (${rate(durationBuckets)}))`,
          legend: `p${Math.round(q * 100)}`,
          // The slowest requests' trace ids, once: each links to its trace (Tempo).
          exemplar: q === 0.99,
        })),
        unit: 's',
        min: 0,
      }),
      timeseries({
        id: 16,
        title: 'p95 latency by route',
        queries: [{ expr: `histogram_quantile(0.95, sum by (le, method, route) (${rate(durationBuckets)}))`, legend: '{{method}} {{route}}' }],
        unit: 's',
        min: 0,
      }),
      row(17, 'Logs'),
      logs({ id: 18, title: 'Errors (type=error)', expr: logStream('type="error"') }),
    ],
  });
}
