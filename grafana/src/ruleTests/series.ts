// Building input series for promtool rule tests from a timeline of events.
// Samples every 30 s (a push or scrape interval); rules are evaluated every minute, as in production.

import { SERVICE_SOURCE } from '../catalogue';

export const SAMPLE_SECONDS = 30;
export const EVALUATION_MINUTES = 1;

export type Labels = Record<string, string>;

export interface Series {
  name: string;
  labels: Labels;
  /** One value per sample (index i is at i * SAMPLE_SECONDS); null = no sample. */
  values: (number | null)[];
}

export const INSTANCE_A = 'pizza-service-1';
export const INSTANCE_B = 'pizza-service-2';

export function serviceLabels(instance = INSTANCE_A): Labels {
  return { source: SERVICE_SOURCE, instance };
}

/** Number of samples in a timeline of `minutes` (both ends included). */
export function sampleCount(minutes: number): number {
  return (minutes * 60) / SAMPLE_SECONDS + 1;
}

/** Seconds since the start of the timeline for each sample index. */
export function sampleTimes(minutes: number): number[] {
  return Array.from({ length: sampleCount(minutes) }, (_, i) => i * SAMPLE_SECONDS);
}

/** Events per sample → cumulative counter. `eventsAt(t)` counts the events in (t - 30 s, t]; t = 0 is the start (0). */
export function counter(minutes: number, eventsAt: (t: number) => number): number[] {
  let total = 0;
  return sampleTimes(minutes).map((t) => (t === 0 ? 0 : (total += eventsAt(t))));
}

/**
 * A counter whose label set only appears at its first event, as prom-client creates label sets lazily
 * (samples before the first event are missing).
 */
export function lazyCounter(minutes: number, eventsAt: (t: number) => number): (number | null)[] {
  let seen = false;
  const values = counter(minutes, eventsAt);
  return values.map((value, i) => {
    if (i > 0 && value > values[i - 1]) seen = true;
    return seen ? value : null;
  });
}

export function gauge(minutes: number, valueAt: (t: number) => number | null): (number | null)[] {
  return sampleTimes(minutes).map(valueAt);
}

export const minutes = (m: number) => m * 60;
/** True when t lies in the half-open interval (fromMinute, toMinute]. */
export const within = (t: number, fromMinute: number, toMinute: number) => t > minutes(fromMinute) && t <= minutes(toMinute);
/** True on full minutes (two samples per minute: rates of "1 per minute" use this). */
export const onTheMinute = (t: number) => t % 60 === 0;

/** A labelled histogram from the durations observed in (t - 30 s, t] at each sample. */
export function histogram(
  name: string,
  labels: Labels,
  buckets: readonly number[],
  minutesTotal: number,
  observationsAt: (t: number) => number[],
): Series[] {
  const times = sampleTimes(minutesTotal);
  const perSample = times.map((t) => (t === 0 ? [] : observationsAt(t)));
  const cumulative = (select: (observations: number[]) => number) => {
    let total = 0;
    return perSample.map((observations) => (total += select(observations)));
  };
  const series: Series[] = [...buckets.map(String), '+Inf'].map((le) => ({
    name: `${name}_bucket`,
    labels: { ...labels, le },
    values: cumulative((obs) => obs.filter((d) => le === '+Inf' || d <= Number(le)).length),
  }));
  series.push({ name: `${name}_count`, labels, values: cumulative((obs) => obs.length) });
  series.push({ name: `${name}_sum`, labels, values: cumulative((obs) => obs.reduce((a, b) => a + b, 0)) });
  // prom-client creates a labelled histogram at its first observation: no samples before that.
  const first = perSample.findIndex((observations) => observations.length > 0);
  for (const s of series) s.values = s.values.map((value, i) => (first >= 0 && i >= first ? value : null));
  return series;
}

export function seriesSelector(series: Pick<Series, 'name' | 'labels'>): string {
  const labels = Object.entries(series.labels).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return `${series.name}{${labels.join(', ')}}`;
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(6)));
}

/**
 * promtool's expanding notation: `a+bxn` is a then n more samples each b higher, `axn` repeats a
 * n more times, `_xn` is n missing samples. Runs are only compressed for integers, so promtool's
 * repeated float addition cannot drift from the values we compute.
 */
export function formatValues(values: (number | null)[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < values.length) {
    const start = values[i];
    if (start === null) {
      let j = i;
      while (j < values.length && values[j] === null) j++;
      parts.push(j - i === 1 ? '_' : `_x${j - i}`);
      i = j;
      continue;
    }
    let j = i + 1;
    const next = values[j];
    if (Number.isInteger(start) && next !== null && next !== undefined && Number.isInteger(next)) {
      const step = next - start;
      while (j + 1 < values.length && values[j + 1] !== null && (values[j + 1] as number) - (values[j] as number) === step) j++;
      const repeats = j - i;
      if (step === 0) parts.push(`${start}x${repeats}`);
      else parts.push(`${start}${step > 0 ? '+' : '-'}${Math.abs(step)}x${repeats}`);
      i = j + 1;
    } else {
      parts.push(formatNumber(start));
      i++;
    }
  }
  return parts.join(' ');
}

/** Value of a series at a minute (sample at exactly that time). */
export function valueAtMinute(series: Series, minute: number): number | null {
  return series.values[(minute * 60) / SAMPLE_SECONDS] ?? null;
}
