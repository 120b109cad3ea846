export type BackendName = 'mysql' | 'sqlite';

export interface BenchOptions {
  /** Seconds of measured load per run. */
  duration: number;
  /** Requests per measured run instead of a duration (short, bounded runs); undefined: `duration` seconds. */
  requests?: number;
  /** Seconds of unrecorded load before each scenario (JIT, pool fill). */
  warmup: number;
  connections: number;
  /** Measured runs per scenario; the median by req/s is reported. */
  runs: number;
  quick: boolean;
  soak: boolean;
  soakSeconds: number;
  backends: BackendName[];
  /** Server URL of MariaDB/MySQL; a fresh database is created on it and dropped at the end. */
  mysqlUrl: string;
  scale: boolean;
  cluster: boolean;
  /** Write a V8 CPU profile of each service child into $TMPDIR/jwt-pizza-profiles/. */
  profile: boolean;
  /** Only these scenario ids (comma list), for working on one scenario. */
  only?: Set<string>;
  /** Keep the service's request logs (written to a temp file) instead of deleting them. */
  keepLogs: boolean;
  /** Skip writing docs/performance.md (JSON is always written). */
  writeDocs: boolean;
}

const HELP = `npm run bench -- [flags]

  --quick               short runs (2 s, 0.5 s warm-up), everything else as the full run
  --duration=<s>        measured seconds per run (default 10)
  --requests=<n>        measured requests per run instead of seconds (e.g. 3000: short runs on a busy machine)
  --warmup=<s>          unrecorded warm-up seconds per scenario (default 2)
  --connections=<n>     concurrent connections (default 50)
  --runs=<n>            runs per scenario, the median is reported (default 1; use 3 for the README figures)
  --backend=<b>         mysql | sqlite | both (default both)
  --mysql-url=<url>     MariaDB/MySQL server (default $BENCH_MYSQL_URL, $TEST_MYSQL_URL or mysql://root@127.0.0.1:3306)
  --soak[=<s>]          also run a mixed-load soak (default 60 s) and report RSS over time
  --no-scale            skip the 10x / 100x data scenarios
  --no-cluster          skip the 1 vs 2 worker scenarios
  --only=<ids>          run only these scenario ids (comma list; see bench/lib/scenarios.ts)
  --profile             write CPU profiles of the service children to $TMPDIR/jwt-pizza-profiles/
  --keep-logs           keep the service request logs (temp files) for inspection
  --no-docs             do not rewrite docs/performance.md
`;

export function parseOptions(argv: string[]): BenchOptions {
  const flags = new Map<string, string | true>();
  for (const arg of argv) {
    if (arg === '-h' || arg === '--help') {
      console.log(HELP);
      process.exit(0);
    }
    const match = /^--([\w-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg}\n\n${HELP}`);
    flags.set(match[1], match[2] ?? true);
  }
  const known = new Set(['quick', 'duration', 'requests', 'warmup', 'connections', 'runs', 'backend', 'mysql-url', 'soak', 'no-scale', 'no-cluster', 'only', 'profile', 'keep-logs', 'no-docs']);
  for (const key of flags.keys()) if (!known.has(key)) throw new Error(`unknown flag --${key}\n\n${HELP}`);

  const num = (key: string, fallback: number, min: number) => {
    const raw = flags.get(key);
    if (raw === undefined || raw === true) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${key} must be a number >= ${min}`);
    return value;
  };
  const quick = flags.has('quick');
  const backend = flags.get('backend') ?? 'both';
  if (backend !== 'both' && backend !== 'mysql' && backend !== 'sqlite') throw new Error('--backend must be mysql, sqlite or both');
  const soakFlag = flags.get('soak');
  const only = flags.get('only');

  return {
    duration: num('duration', quick ? 2 : 10, 1),
    ...(flags.has('requests') ? { requests: Math.round(num('requests', 0, 1)) } : {}),
    warmup: num('warmup', quick ? 0.5 : 2, 0),
    connections: num('connections', 50, 1),
    runs: Math.round(num('runs', 1, 1)),
    quick,
    soak: soakFlag !== undefined,
    soakSeconds: soakFlag === undefined || soakFlag === true ? 60 : num('soak', 60, 5),
    backends: backend === 'both' ? ['mysql', 'sqlite'] : [backend],
    mysqlUrl: String(flags.get('mysql-url') ?? process.env.BENCH_MYSQL_URL ?? process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'),
    scale: !flags.has('no-scale'),
    cluster: !flags.has('no-cluster'),
    profile: flags.has('profile'),
    only: typeof only === 'string' ? new Set(only.split(',').map((s) => s.trim()).filter(Boolean)) : undefined,
    keepLogs: flags.has('keep-logs'),
    writeDocs: !flags.has('no-docs'),
  };
}
