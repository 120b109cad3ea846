import autocannon from 'autocannon';

/** One autocannon load: a fixed request, or `requests` whose setupRequest rotates users and bodies. */
export interface LoadSpec {
  url: string;
  path?: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  requests?: autocannon.Request[];
  connections: number;
  /** Seconds. */
  duration: number;
  /** Stop after this many requests instead (a short, bounded run); `duration` is then only the progress bar's scale. */
  amount?: number;
}

export interface LoadResult {
  reqPerSec: number;
  /** Latency in ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  total: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  durationSec: number;
  /**
   * CPU time the server process(es) spent per answered request, in ms: unlike req/s, this hardly
   * moves when other work competes for the cores, so it is the figure to compare on a noisy machine.
   */
  cpuMsPerRequest?: number;
  /** The database server's CPU per answered request (MariaDB on this machine; SQLite's is in the service's). */
  dbCpuMsPerRequest?: number;
  /** CPU per answered request of other processes the requests make work for (the factory simulator). */
  companionCpuMsPerRequest?: Record<string, number>;
  /**
   * The database server's CPU per answered request in the threads serving this run's database (MariaDB runs a
   * thread per connection): unlike dbCpuMsPerRequest, not moved by other users of the same server.
   */
  dbThreadCpuMsPerRequest?: number;
  /** SQL statements the service sent per answered request (round trips on MySQL), transaction control apart. */
  sqlPerRequest?: number;
  /** BEGIN/COMMIT/SAVEPOINT... per answered request, and COMMITs alone. */
  sqlControlPerRequest?: number;
  commitsPerRequest?: number;
}

export function runLoad(spec: LoadSpec, onTick?: (elapsedSec: number, completed: number) => void): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let completed = 0;
    const instance = autocannon(
      {
        url: spec.url + (spec.path ?? '/'),
        method: spec.method ?? 'GET',
        headers: spec.headers,
        body: spec.body,
        requests: spec.requests,
        connections: spec.connections,
        duration: spec.duration,
        ...(spec.amount ? { amount: spec.amount } : {}),
        // A slow answer is a data point, not an error: only a hung request (10 s) counts as a timeout.
        timeout: 10,
      },
      (error, result) => {
        if (error) return reject(error);
        const statusCodes: Record<string, number> = {};
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
        // autocannon rounds its duration to whole seconds: a run of a few thousand requests needs better.
        const durationSec = (Date.now() - started) / 1000 || result.duration || spec.duration;
        resolve({
          reqPerSec: result.requests.total / durationSec,
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          max: result.latency.max,
          total: result.requests.total,
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          statusCodes,
          durationSec,
        });
      },
    );
    instance.on('response', () => (completed += 1));
    if (onTick) instance.on('tick', () => onTick((Date.now() - started) / 1000, completed));
  });
}

/** The run with the median req/s (runs are not averaged: a median run keeps its own percentiles). */
export function medianRun(runs: LoadResult[]): LoadResult {
  const sorted = [...runs].sort((a, b) => a.reqPerSec - b.reqPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * The median of the per-run ratios a[i] / b[i] of two loads measured interleaved (a run of one, then the
 * run of the other): each ratio compares runs taken a few seconds apart, so a slow drift of the machine
 * cancels out, which a ratio of the two medians (possibly taken minutes apart) does not.
 */
export function pairedRatio(a: LoadResult[], b: LoadResult[]): number | undefined {
  const ratios = a.slice(0, b.length).map((run, i) => run.reqPerSec / b[i].reqPerSec).filter(Number.isFinite);
  return ratios.length ? median(ratios) : undefined;
}

/** The median of the per-run CPU-per-request ratios a[i] / b[i] (see pairedRatio). */
export function pairedCpuRatio(a: LoadResult[], b: LoadResult[]): number | undefined {
  const ratios = a
    .slice(0, b.length)
    .map((run, i) => (run.cpuMsPerRequest ?? NaN) / (b[i].cpuMsPerRequest ?? NaN))
    .filter(Number.isFinite);
  return ratios.length ? median(ratios) : undefined;
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
