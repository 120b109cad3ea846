import { dashboard, DashboardIdentity, JsonObject, row, sel, stat, timeseries, ValueMapping } from './panels';

export const SYSTEM: DashboardIdentity = {
  uid: 'jwt-pizza-system',
  slug: 'jwt-pizza-system',
  title: 'JWT Pizza / System',
};

export const SYSTEM_PANELS = {
  telemetryAge: 3,
  dbUp: 11,
  telemetryFailures: 15,
  traceSpansDropped: 20,
} as const;

const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;

const UP_MAPPINGS: ValueMapping[] = [
  { value: '0', text: 'DOWN', color: 'red' },
  { value: '1', text: 'UP', color: 'green' },
];

export function buildSystem(): JsonObject {
  return dashboard({
    ...SYSTEM,
    description: 'Host and process resources, event loop, database and the telemetry push pipeline.',
    tags: ['system'],
    panels: [
      row(1, 'At a glance'),
      stat({ id: 2, title: 'Database', query: { expr: `min(${sel('db_up')})` }, mappings: UP_MAPPINGS, colorMode: 'background' }),
      stat({
        id: SYSTEM_PANELS.telemetryAge,
        title: 'Seconds since last telemetry sample',
        description: 'TelemetryAbsent fires after 5 minutes without any sample from the service.',
        query: { expr: `time() - max(timestamp(${sel('process_resident_memory_bytes')}))` },
        unit: 's',
        decimals: 0,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 120, color: 'orange' },
          { value: 300, color: 'red' },
        ],
      }),
      stat({
        id: 4,
        title: 'Host CPU',
        query: { expr: `max(${sel('system_cpu_percent')})` },
        unit: 'percent',
        decimals: 1,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 80, color: 'red' },
        ],
      }),
      stat({
        id: 5,
        title: 'Host memory',
        query: { expr: `max(${sel('system_memory_percent')})` },
        unit: 'percent',
        decimals: 1,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 85, color: 'red' },
        ],
      }),
      stat({ id: 17, title: 'Instances reporting', query: { expr: `count(${sel('process_resident_memory_bytes')})` }, decimals: 0 }),
      stat({
        id: 18,
        title: 'Uptime',
        query: { expr: `time() - min(${sel('process_start_time_seconds')})` },
        unit: 's',
      }),
      row(19, 'Host and process'),
      timeseries({
        id: 6,
        title: 'CPU %',
        queries: [
          { expr: `max by (instance) (${sel('system_cpu_percent')})`, legend: 'host {{instance}}' },
          { expr: `sum by (instance) (${rate(sel('process_cpu_seconds_total'))}) * 100`, legend: 'process {{instance}}' },
        ],
        unit: 'percent',
        min: 0,
      }),
      timeseries({
        id: 7,
        title: 'Memory %',
        queries: [{ expr: `max by (instance) (${sel('system_memory_percent')})`, legend: 'host {{instance}}' }],
        unit: 'percent',
        min: 0,
        max: 100,
      }),
      timeseries({
        id: 8,
        title: 'Process memory (RSS, heap)',
        queries: [
          { expr: `sum by (instance) (${sel('process_resident_memory_bytes')})`, legend: 'rss {{instance}}' },
          { expr: `sum by (instance) (${sel('nodejs_heap_size_used_bytes')})`, legend: 'heap used {{instance}}' },
          { expr: `sum by (instance) (${sel('nodejs_heap_size_total_bytes')})`, legend: 'heap total {{instance}}' },
        ],
        unit: 'bytes',
      }),
      timeseries({
        id: 9,
        title: 'Event-loop lag',
        queries: [
          { expr: `max by (instance) (${sel('nodejs_eventloop_lag_p99_seconds')})`, legend: 'p99 {{instance}}' },
          { expr: `max by (instance) (${sel('nodejs_eventloop_lag_seconds')})`, legend: 'lag {{instance}}' },
        ],
        unit: 's',
      }),
      row(10, 'Database'),
      timeseries({
        id: SYSTEM_PANELS.dbUp,
        title: 'Database up (db_up)',
        description: '1 when the database answers its health check, 0 when not; DatabaseNotReady fires after 1 minute at 0.',
        queries: [{ expr: `min by (instance) (${sel('db_up')})`, legend: '{{instance}}' }],
        min: 0,
        max: 1,
        drawStyle: 'bars',
      }),
      timeseries({
        id: 12,
        title: 'DB pool connections',
        queries: [{ expr: `sum by (state) (${sel('db_pool_connections')})`, legend: '{{state}}' }],
        stack: true,
      }),
      row(13, 'Telemetry pipeline'),
      timeseries({
        id: 14,
        title: 'Telemetry pushes per minute (metrics, logs)',
        queries: [{ expr: `sum by (sink, outcome) (${rate(sel('telemetry_push_total'))}) * 60`, legend: '{{sink}} {{outcome}}' }],
      }),
      timeseries({
        id: SYSTEM_PANELS.telemetryFailures,
        title: 'Push failures after retries and dropped log lines per minute',
        queries: [
          { expr: `sum by (sink) (${rate(sel('telemetry_push_failures_total'))}) * 60`, legend: 'failed {{sink}} pushes' },
          { expr: `sum(${rate(sel('log_lines_dropped_total'))}) * 60`, legend: 'log lines dropped' },
        ],
      }),
      timeseries({
        id: SYSTEM_PANELS.traceSpansDropped,
        title: 'Trace spans dropped per minute by reason',
        description:
          'Spans that never reach the OTLP collector: export_failed (collector down, slow or refusing) or queue_full (more spans than ' +
          'OTEL_BSP_MAX_QUEUE_SIZE waiting). TraceExportFailing fires when spans are dropped in 3 of 10 minutes.',
        queries: [{ expr: `sum by (reason) (${rate(sel('trace_spans_dropped_total'))}) * 60`, legend: '{{reason}}' }],
        drawStyle: 'bars',
        w: 24,
      }),
      timeseries({
        id: 16,
        title: 'Seconds since last sample, per instance',
        queries: [{ expr: `time() - max by (instance) (timestamp(${sel('process_resident_memory_bytes')}))`, legend: '{{instance}}' }],
        unit: 's',
        w: 24,
      }),
    ],
  });
}
