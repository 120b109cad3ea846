import {
  alertAnnotation,
  alertList,
  dashboard,
  DashboardIdentity,
  JsonObject,
  logs,
  logStream,
  row,
  sel,
  stat,
  stateTimeline,
  timeseries,
  ValueMapping,
} from './panels';

export const ORDERS_FACTORY: DashboardIdentity = {
  uid: 'jwt-pizza-orders-factory',
  slug: 'jwt-pizza-orders-and-factory',
  title: 'JWT Pizza / Orders & factory',
};

/** Panel ids other files link to (alert annotations, runbooks). */
export const ORDERS_FACTORY_PANELS = {
  failedByReason: 8,
  failureRatio: 9,
  factoryLatency: 12,
  circuitState: 14,
  factoryFailureLogs: 19,
} as const;

const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;
const purchases = (...matchers: string[]) => sel('pizza_purchases_total', ...matchers);
const factoryBuckets = sel('pizza_factory_request_duration_seconds_bucket');

const CIRCUIT_MAPPINGS: ValueMapping[] = [
  { value: '0', text: 'closed', color: 'green' },
  { value: '1', text: 'half-open', color: 'orange' },
  { value: '2', text: 'open', color: 'red' },
];

export function buildOrdersFactory(): JsonObject {
  return dashboard({
    ...ORDERS_FACTORY,
    description:
      'Pizzas sold and failed, revenue, the pizza factory (latency, circuit breaker, pending orders) and the factory failure log with its report URL.',
    tags: ['orders', 'factory'],
    annotations: [alertAnnotation('Pizza alerts firing', 'Pizza.*', 'red')],
    panels: [
      row(1, 'Purchases'),
      stat({ id: 2, title: 'Pizzas sold / min', query: { expr: `sum(${rate(sel('pizzas_sold_total'))}) * 60` }, decimals: 1 }),
      stat({ id: 3, title: 'Revenue / min', query: { expr: `sum(${rate(sel('pizza_revenue_btc_total'))}) * 60` }, unit: 'BTC', decimals: 4 }),
      stat({
        id: 4,
        title: 'Purchase failure ratio (10m)',
        description: 'The PizzaPurchaseFailures signal: failed / all purchases over 10 minutes.',
        query: { expr: `sum(increase(${purchases('outcome="failure"')}[10m])) / sum(increase(${purchases()}[10m]))` },
        unit: 'percentunit',
        decimals: 1,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 0.05, color: 'red' },
        ],
      }),
      stat({
        id: 5,
        title: 'Factory circuit',
        query: { expr: `max(${sel('pizza_factory_circuit_state')})` },
        mappings: CIRCUIT_MAPPINGS,
        colorMode: 'background',
      }),
      stat({ id: 6, title: 'Pending orders', query: { expr: `sum(${sel('pizza_orders_pending')})` } }),
      stat({
        id: 20,
        title: 'Invalid pizza JWTs (1h)',
        query: { expr: `sum(increase(${purchases('reason="invalid_jwt"')}[1h]))` },
        decimals: 0,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 1, color: 'red' },
        ],
      }),
      timeseries({
        id: 7,
        title: 'Pizzas sold and orders failed per minute',
        queries: [
          { expr: `sum(${rate(sel('pizzas_sold_total'))}) * 60`, legend: 'pizzas sold' },
          { expr: `sum(${rate(purchases('outcome="failure"'))}) * 60`, legend: 'orders failed' },
        ],
        unit: 'short',
      }),
      timeseries({
        id: ORDERS_FACTORY_PANELS.failedByReason,
        title: 'Failed purchases per minute by reason',
        queries: [{ expr: `sum by (reason) (${rate(purchases('outcome="failure"'))}) * 60`, legend: '{{reason}}' }],
        stack: true,
        drawStyle: 'bars',
      }),
      timeseries({
        id: ORDERS_FACTORY_PANELS.failureRatio,
        title: 'Purchase failure ratio (10m window, as alerted)',
        description: 'PizzaPurchaseFailures fires above 5% with at least 2 failed purchases in the window.',
        queries: [
          { expr: `sum(increase(${purchases('outcome="failure"')}[10m])) / sum(increase(${purchases()}[10m]))`, legend: 'failure ratio' },
        ],
        unit: 'percentunit',
        min: 0,
        max: 1,
        showThresholds: true,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 0.05, color: 'red' },
        ],
      }),
      timeseries({
        id: 10,
        title: 'Revenue per minute',
        queries: [{ expr: `sum(${rate(sel('pizza_revenue_btc_total'))}) * 60`, legend: 'BTC / min' }],
        unit: 'BTC',
      }),
      row(11, 'Factory'),
      timeseries({
        id: ORDERS_FACTORY_PANELS.factoryLatency,
        title: 'Factory latency p50 / p95 / p99 (pizza creation)',
        description: 'The throttle chaos holds calls ~32 s; the client gives up at FACTORY_TIMEOUT_MS (reason "timeout").',
        queries: [0.5, 0.95, 0.99].map((q) => ({
          expr: `histogram_quantile(${q}, sum by (le) (${rate(factoryBuckets)}))`,
          legend: `p${Math.round(q * 100)}`,
          // The slowest requests' trace ids, once: each links to its trace (Tempo).
          exemplar: q === 0.99,
        })),
        unit: 's',
        min: 0,
        showThresholds: true,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 4, color: 'red' },
        ],
      }),
      timeseries({
        id: 13,
        title: 'Factory calls per minute by outcome',
        queries: [
          { expr: `sum by (outcome) (${rate(sel('pizza_factory_request_duration_seconds_count'))}) * 60`, legend: '{{outcome}}' },
        ],
        stack: true,
      }),
      stateTimeline({
        id: ORDERS_FACTORY_PANELS.circuitState,
        title: 'Circuit breaker state',
        queries: [{ expr: `max by (instance) (${sel('pizza_factory_circuit_state')})`, legend: '{{instance}}' }],
        mappings: CIRCUIT_MAPPINGS,
      }),
      timeseries({
        id: 15,
        title: 'Pending orders',
        description: 'Orders written as pending whose factory call has not finished.',
        queries: [{ expr: `sum by (instance) (${sel('pizza_orders_pending')})`, legend: '{{instance}}' }],
      }),
      row(16, 'Alert and fix'),
      alertList({ id: 17, title: 'Pizza alerts', alertName: 'Pizza', labelFilter: 'team=pizza-oncall', w: 8, h: 8 }),
      timeseries({
        id: 18,
        title: 'Pizza alert state (ALERTS)',
        description: 'One continuous bar per incident: keep_firing_for stops quiet gaps from resolving the alert.',
        queries: [
          { expr: `max by (alertname, alertstate) (ALERTS{alertname=~"Pizza.*", source=~"$source"})`, legend: '{{alertname}} {{alertstate}}' },
        ],
        w: 16,
        h: 8,
        drawStyle: 'bars',
      }),
      logs({
        id: ORDERS_FACTORY_PANELS.factoryFailureLogs,
        title: 'Factory failures with report URL (API key redacted)',
        description:
          'The reportUrl (API key redacted) identifies the factory chaos. End it with POST /api/order/factory/report (admin), which calls the URL server-side; GET /api/order/failures (admin) lists recent failures.',
        expr: `${logStream('type="factory"')} | json | reportUrl != "" | line_format "order={{.orderId}} outcome={{.outcome}} reason={{.reason}} status={{.status}} reportUrl={{.reportUrl}}"`,
      }),
    ],
  });
}
