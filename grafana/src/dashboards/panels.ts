// Small builders for Grafana dashboard JSON (schemaVersion 39, Grafana 10.4+ / 11 / 12).
// Panel ids are explicit and stable: alert annotations link to them (dashboard_url ?viewPanel=<id>).

import { SERVICE_SOURCE } from '../catalogue';

export const SCHEMA_VERSION = 39;
export const PROMETHEUS = { type: 'prometheus', uid: '${datasource}' } as const;
export const LOKI = { type: 'loki', uid: '${loki}' } as const;

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A PromQL selector filtered by the dashboard's source and instance variables. */
export function sel(metric: string, ...matchers: string[]): string {
  return `${metric}{${['source=~"$source"', 'instance=~"$instance"', ...matchers].join(', ')}}`;
}

/** A LogQL stream selector for this service. */
export function logStream(...matchers: string[]): string {
  return `{${[`service="${SERVICE_SOURCE}"`, ...matchers].join(', ')}}`;
}

export interface PromQuery {
  expr: string;
  legend?: string;
  instant?: boolean;
  /** Show the histogram's exemplars (trace ids) as points linking to the trace in Tempo. */
  exemplar?: boolean;
}

function promTargets(queries: PromQuery[]): Json[] {
  return queries.map((query, index) => ({
    datasource: PROMETHEUS,
    refId: String.fromCharCode(65 + index),
    expr: query.expr,
    legendFormat: query.legend ?? '__auto',
    range: !query.instant,
    instant: Boolean(query.instant),
    ...(query.exemplar ? { exemplar: true } : {}),
    editorMode: 'code',
  }));
}

export interface Placed {
  panel: JsonObject;
  w: number;
  h: number;
}

interface PanelCommon {
  id: number;
  title: string;
  description?: string;
  w?: number;
  h?: number;
}

interface Threshold {
  value: number | null;
  color: string;
}

const GREEN_ONLY: Threshold[] = [{ value: null, color: 'green' }];

function thresholds(steps: Threshold[] = GREEN_ONLY): Json {
  return { mode: 'absolute', steps: steps.map((s) => ({ color: s.color, value: s.value })) };
}

export interface TimeseriesOptions extends PanelCommon {
  queries: PromQuery[];
  unit?: string;
  stack?: boolean;
  min?: number;
  max?: number;
  thresholdSteps?: Threshold[];
  /** Draw thresholds as a dashed line (e.g. the alert threshold). */
  showThresholds?: boolean;
  drawStyle?: 'line' | 'bars';
}

export function timeseries(options: TimeseriesOptions): Placed {
  const custom: JsonObject = {
    drawStyle: options.drawStyle ?? 'line',
    lineWidth: 1,
    fillOpacity: options.stack ? 30 : 10,
    showPoints: 'never',
    spanNulls: false,
    stacking: { mode: options.stack ? 'normal' : 'none', group: 'A' },
    thresholdsStyle: { mode: options.showThresholds ? 'dashed' : 'off' },
  };
  const defaults: JsonObject = {
    unit: options.unit ?? 'short',
    custom,
    color: { mode: 'palette-classic' },
    thresholds: thresholds(options.thresholdSteps),
  };
  if (options.min !== undefined) defaults.min = options.min;
  if (options.max !== undefined) defaults.max = options.max;
  return {
    w: options.w ?? 12,
    h: options.h ?? 8,
    panel: {
      id: options.id,
      type: 'timeseries',
      title: options.title,
      description: options.description ?? '',
      datasource: PROMETHEUS,
      targets: promTargets(options.queries),
      fieldConfig: { defaults, overrides: [] },
      options: {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },
  };
}

export interface ValueMapping {
  value: string;
  text: string;
  color: string;
}

export interface StatOptions extends PanelCommon {
  query: PromQuery;
  unit?: string;
  decimals?: number;
  thresholdSteps?: Threshold[];
  mappings?: ValueMapping[];
  colorMode?: 'value' | 'background' | 'none';
}

function valueMappings(mappings: ValueMapping[] | undefined): Json[] {
  if (!mappings || mappings.length === 0) return [];
  const options: JsonObject = {};
  mappings.forEach((m, index) => (options[m.value] = { text: m.text, color: m.color, index }));
  return [{ type: 'value', options }];
}

export function stat(options: StatOptions): Placed {
  const defaults: JsonObject = {
    unit: options.unit ?? 'short',
    color: { mode: 'thresholds' },
    thresholds: thresholds(options.thresholdSteps),
    mappings: valueMappings(options.mappings),
  };
  if (options.decimals !== undefined) defaults.decimals = options.decimals;
  return {
    w: options.w ?? 4,
    h: options.h ?? 4,
    panel: {
      id: options.id,
      type: 'stat',
      title: options.title,
      description: options.description ?? '',
      datasource: PROMETHEUS,
      targets: promTargets([{ ...options.query, instant: options.query.instant ?? false }]),
      fieldConfig: { defaults, overrides: [] },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: options.colorMode ?? 'value',
        graphMode: 'area',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'auto',
      },
    },
  };
}

export interface StateTimelineOptions extends PanelCommon {
  queries: PromQuery[];
  mappings: ValueMapping[];
}

export function stateTimeline(options: StateTimelineOptions): Placed {
  return {
    w: options.w ?? 12,
    h: options.h ?? 6,
    panel: {
      id: options.id,
      type: 'state-timeline',
      title: options.title,
      description: options.description ?? '',
      datasource: PROMETHEUS,
      targets: promTargets(options.queries),
      fieldConfig: {
        defaults: {
          color: { mode: 'thresholds' },
          thresholds: thresholds(),
          mappings: valueMappings(options.mappings),
          custom: { fillOpacity: 80, lineWidth: 0 },
        },
        overrides: [],
      },
      options: {
        showValue: 'auto',
        mergeValues: true,
        rowHeight: 0.9,
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'single', sort: 'none' },
      },
    },
  };
}

export interface LogsOptions extends PanelCommon {
  expr: string;
}

export function logs(options: LogsOptions): Placed {
  return {
    w: options.w ?? 24,
    h: options.h ?? 10,
    panel: {
      id: options.id,
      type: 'logs',
      title: options.title,
      description: options.description ?? '',
      datasource: LOKI,
      targets: [{ datasource: LOKI, refId: 'A', expr: options.expr, queryType: 'range', editorMode: 'code' }],
      options: {
        showTime: true,
        wrapLogMessage: true,
        prettifyLogMessage: false,
        enableLogDetails: true,
        dedupStrategy: 'none',
        sortOrder: 'Descending',
      },
    },
  };
}

export interface AlertListOptions extends PanelCommon {
  /** Substring of the alert names to show. */
  alertName?: string;
  /** Label matchers, e.g. `team=pizza-oncall`. */
  labelFilter: string;
}

export function alertList(options: AlertListOptions): Placed {
  return {
    w: options.w ?? 8,
    h: options.h ?? 8,
    panel: {
      id: options.id,
      type: 'alertlist',
      title: options.title,
      description: options.description ?? '',
      options: {
        viewMode: 'list',
        groupMode: 'default',
        groupBy: [],
        maxItems: 20,
        sortOrder: 1,
        dashboardAlerts: false,
        alertName: options.alertName ?? '',
        alertInstanceLabelFilter: options.labelFilter,
        stateFilter: { firing: true, pending: true, noData: false, normal: false, error: true, recovering: true },
      },
    },
  };
}

export function row(id: number, title: string): Placed {
  return {
    w: 24,
    h: 1,
    panel: { id, type: 'row', title, collapsed: false, panels: [] },
  };
}

/** Flows panels left to right in Grafana's 24-column grid; a row always starts a new line. */
export function layout(items: Placed[]): JsonObject[] {
  const placed: JsonObject[] = [];
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  for (const item of items) {
    const isRow = item.panel.type === 'row';
    if (isRow || x + item.w > 24) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    placed.push({ ...item.panel, gridPos: { h: item.h, w: item.w, x, y } });
    x += item.w;
    lineHeight = Math.max(lineHeight, item.h);
    if (isRow) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
  }
  return placed;
}

function datasourceVariable(name: string, label: string, pluginId: string): JsonObject {
  return { name, label, type: 'datasource', query: pluginId, current: {}, hide: 0, refresh: 1, regex: '', options: [], includeAll: false, multi: false };
}

function queryVariable(name: string, label: string, definition: string, extra: JsonObject): JsonObject {
  return {
    name,
    label,
    type: 'query',
    datasource: PROMETHEUS,
    definition,
    query: { qryType: 1, query: definition, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    sort: 1,
    hide: 0,
    regex: '',
    options: [],
    ...extra,
  };
}

/** The variables every dashboard shares: both data sources, the service (`source`) and its instances. */
export function standardVariables(): JsonObject[] {
  return [
    datasourceVariable('datasource', 'Prometheus', 'prometheus'),
    datasourceVariable('loki', 'Loki', 'loki'),
    queryVariable('source', 'Service', 'label_values(process_resident_memory_bytes, source)', {
      current: { selected: true, text: SERVICE_SOURCE, value: SERVICE_SOURCE },
      includeAll: false,
      multi: false,
    }),
    queryVariable('instance', 'Instance', 'label_values(process_resident_memory_bytes{source=~"$source"}, instance)', {
      current: { selected: true, text: ['All'], value: ['$__all'] },
      includeAll: true,
      allValue: '.*',
      multi: true,
    }),
  ];
}

export interface DashboardIdentity {
  uid: string;
  slug: string;
  title: string;
}

export interface DashboardOptions extends DashboardIdentity {
  description: string;
  tags: string[];
  panels: Placed[];
  /** Extra annotation queries (the built-in Grafana annotations are always added). */
  annotations?: JsonObject[];
}

export const DASHBOARD_TAG = 'jwt-pizza-service';

export function dashboard(options: DashboardOptions): JsonObject {
  return {
    uid: options.uid,
    title: options.title,
    description: options.description,
    tags: [DASHBOARD_TAG, ...options.tags],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    refresh: '30s',
    time: { from: 'now-3h', to: 'now' },
    timepicker: {},
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    links: [
      { title: 'JWT Pizza dashboards', type: 'dashboards', tags: [DASHBOARD_TAG], asDropdown: true, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '', url: '' },
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        ...(options.annotations ?? []),
      ],
    },
    templating: { list: standardVariables() },
    panels: layout(options.panels),
  };
}

/** A dashboard annotation that marks when an alert was firing, from Prometheus' ALERTS series. */
export function alertAnnotation(name: string, alertNameRegex: string, color: string): JsonObject {
  return {
    name,
    datasource: PROMETHEUS,
    enable: true,
    hide: false,
    iconColor: color,
    expr: `ALERTS{alertname=~"${alertNameRegex}", alertstate="firing", source=~"$source"}`,
    step: '60s',
    titleFormat: '{{alertname}} firing',
    textFormat: 'severity={{severity}}',
    tagKeys: 'alertname,severity',
    useValueForTime: false,
  };
}

export function dashboardUrl(identity: DashboardIdentity, panelId?: number): string {
  return `/d/${identity.uid}/${identity.slug}${panelId === undefined ? '' : `?viewPanel=${panelId}`}`;
}
