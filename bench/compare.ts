/**
 * Does a change make a scenario cheaper? `npx tsx bench/compare.ts --variant=on --variant=off:TELEMETRY_ENABLED=false`
 * [--scenario=menu] [--rounds=16] [--duration=4] [--connections=50] [--backend=sqlite|mysql] [--external-factory] [--profile]
 *
 * Each variant is a new service process (the compiled build, the bench's environment plus the variant's
 * overrides); `WARM=orders+reads` in a variant first serves those requests, as a long-running process has.
 * A separate process seeds a small dataset through the API and is stopped before anything is measured: the
 * process that seeds is itself slower afterwards (it has served orders: ~4% more CPU per menu request), which would be charged
 * to whichever variant did it. The variants then take turns, in alternating order, and each run's CPU per
 * request is compared with the first variant's run of the same round (the process tree's RSS at the end of each
 * run is reported beside it): on this shared machine a process's
 * figure moves more between minutes than between two processes measured seconds apart. `--profile` writes
 * a V8 CPU profile of each variant into $TMPDIR/jwt-pizza-profiles/ (summarize with bench/profile.ts --file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { benchServiceEnv, buildForBench, PROFILE_DIR, spawnServer, threadCpuSeconds, type ChildServer } from './lib/children';
import { median, runLoad } from './lib/load';
import { createBenchDatabase } from './lib/mysqlAdmin';
import { SCENARIO_SHAPES } from './lib/scenarios';
import { seedThroughApi } from './lib/seed';

const WARM_UPS: Record<string, string[]> = {
  reads: ['order-history', 'user-me', 'franchise-anon', 'franchise-admin'],
  orders: ['order-post'],
};

interface Variant { name: string; env: Record<string, string>; warm: string[]; root?: string; entry?: string }

/** Servers a variant may run instead of the service (ENTRY=<name>). */
const ENTRIES: Record<string, string> = { stack: 'bench/servers/stack.ts' };

/**
 * `name[:KEY=VALUE,KEY=VALUE]`; the key WARM names warm-ups joined by `+` (reads, orders); the key BUILD
 * names another checkout whose build (its dist/, `npm run build` there) this variant runs: the code before
 * a change, measured in the same rounds as the code after it. ENTRY=stack runs bench/servers/stack.ts instead
 * of the service: the menu's answer behind the first STACK_LAYERS of the service's middlewares (0: bare Express).
 */
export function parseVariant(spec: string): Variant {
  const [name, overrides = ''] = spec.split(/:(.*)/s);
  if (!/^[\w.-]+$/.test(name)) throw new Error(`bad variant name in ${spec}`);
  const env: Record<string, string> = {};
  let warm: string[] = [];
  let root: string | undefined;
  let entry: string | undefined;
  for (const pair of overrides.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`bad override ${pair} in ${spec} (KEY=VALUE expected)`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (key === 'WARM') warm = value.split('+').filter(Boolean);
    else if (key === 'BUILD') root = value;
    else if (key === 'ENTRY') {
      if (!ENTRIES[value]) throw new Error(`unknown ENTRY ${value} (known: ${Object.keys(ENTRIES).join(', ')})`);
      entry = ENTRIES[value];
    }
    else env[key] = value;
  }
  for (const w of warm) if (!WARM_UPS[w]) throw new Error(`unknown warm-up ${w} (known: ${Object.keys(WARM_UPS).join(', ')})`);
  return { name, env, warm, ...(root ? { root } : {}), ...(entry ? { entry } : {}) };
}

async function main() {
  const flags = new Map<string, string>();
  const specs: string[] = [];
  for (const arg of process.argv.slice(2)) {
    const match = /^--([\w-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg}`);
    if (match[1] === 'variant') specs.push(match[2] ?? '');
    else flags.set(match[1], match[2] ?? 'true');
  }
  const known = ['scenario', 'rounds', 'duration', 'connections', 'backend', 'mysql-url', 'external-factory', 'profile'];
  for (const key of flags.keys()) if (!known.includes(key)) throw new Error(`unknown flag --${key} (known: --variant, --${known.join(', --')})`);
  const variants = specs.map(parseVariant);
  if (variants.length < 2) throw new Error('give at least two --variant=name[:KEY=VALUE,...]');
  const scenario = flags.get('scenario') ?? 'menu';
  if (!SCENARIO_SHAPES[scenario]) throw new Error(`unknown scenario ${scenario} (known: ${Object.keys(SCENARIO_SHAPES).join(', ')})`);
  const rounds = Number(flags.get('rounds') ?? 16);
  const duration = Number(flags.get('duration') ?? 4);
  const connections = Number(flags.get('connections') ?? 50);
  if (!Number.isInteger(rounds) || rounds < 1 || !(duration > 0) || !Number.isInteger(connections) || connections < 1) throw new Error('--rounds and --connections must be whole numbers >= 1 and --duration a number of seconds > 0');
  const backend = flags.get('backend') ?? 'sqlite';
  if (backend !== 'sqlite' && backend !== 'mysql') throw new Error(`unknown backend ${backend} (sqlite or mysql)`);

  buildForBench();
  const dir = mkdtempSync(join(os.tmpdir(), 'jwt-pizza-compare-'));
  const logDir = join(dir, 'logs');
  const mysql = backend === 'mysql' ? await createBenchDatabase(flags.get('mysql-url') ?? process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306') : undefined;
  const admin = { email: 'admin@compare.jwt', password: 'compare-admin-password' };
  const base = { databaseUrl: mysql?.url ?? `sqlite:${join(dir, 'compare.sqlite')}`, dataDir: dir, jwtSecret: 'compare-'.repeat(6), admin };
  const children: ChildServer[] = [];
  try {
    const shared: Record<string, string> = {};
    if (flags.has('external-factory')) {
      const key = 'compare-factory-key-0123456789abcdef';
      const factory = await spawnServer({ name: 'factory', entry: 'src/factory/simulator/main.ts', env: { FACTORY_HOST: '127.0.0.1', FACTORY_API_KEY: key, FACTORY_ADMIN_KEY: `${key}-admin` }, logDir, portEnv: 'FACTORY_PORT' });
      children.push(factory);
      Object.assign(shared, { FACTORY_URL: factory.url, FACTORY_API_KEY: key });
    }
    const seeder = await spawnServer({ name: 'seeder', entry: 'src/server.ts', env: benchServiceEnv({ ...base, extra: shared }), logDir });
    const data = await seedThroughApi(seeder.url, admin, { franchises: 20, storesPerFranchise: 3, diners: 40, averageOrdersPerDiner: 3 });
    await seeder.stop();

    const servers = new Map<string, ChildServer>();
    const profileDir = flags.has('profile') ? PROFILE_DIR : undefined;
    for (const v of variants) {
      const server = await spawnServer({ name: `compare-${v.name}`, entry: v.entry ?? 'src/server.ts', env: benchServiceEnv({ ...base, extra: { ...shared, ...v.env } }), logDir, profileDir, root: v.root });
      children.push(server);
      servers.set(v.name, server);
      for (const w of v.warm) for (const id of WARM_UPS[w]) await runLoad({ ...SCENARIO_SHAPES[id](data), url: server.url, connections: 10, duration: 2 });
    }
    const shape = SCENARIO_SHAPES[scenario](data);
    for (const v of variants) await runLoad({ ...shape, url: servers.get(v.name)!.url, connections, duration: 2 });

    const runs = new Map(variants.map((v) => [v.name, [] as { cpu: number; main: number; others: number; rps: number; rss: number }[]]));
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? variants : [...variants].reverse();
      for (const v of order) {
        const server = servers.get(v.name)!;
        await server.idle();
        const [cpu0, threads0] = [server.cpuSeconds(), threadCpuSeconds(server.pid)];
        const result = await runLoad({ ...shape, url: server.url, connections, duration });
        const [cpu1, threads1] = [server.cpuSeconds(), threadCpuSeconds(server.pid)];
        const rss = server.rss();
        const per = (seconds: number) => (1000 * seconds) / Math.max(1, result.total);
        if (result.errors || result.non2xx) console.warn(`${v.name}: ${result.errors} errors, ${result.non2xx} non-2xx in round ${round}`);
        runs.get(v.name)!.push({ cpu: per(cpu1 - cpu0), main: per(threads1.main - threads0.main), others: per(threads1.others - threads0.others), rps: result.reqPerSec, rss });
      }
      console.log(`round ${round}/${rounds}: ${variants.map((v) => `${v.name} ${runs.get(v.name)!.at(-1)!.cpu.toFixed(3)}`).join('  ')} ms/req`);
    }

    const first = runs.get(variants[0].name)!;
    console.log(`\n${scenario} on ${backend}, ${rounds} rounds of ${duration} s at ${connections} connections, CPU ms per request (median):`);
    for (const v of variants) {
      const own = runs.get(v.name)!;
      const line = `${v.name.padEnd(14)} ${median(own.map((r) => r.cpu)).toFixed(3)} (main thread ${median(own.map((r) => r.main)).toFixed(3)}, other threads ${median(own.map((r) => r.others)).toFixed(3)}), ${median(own.map((r) => r.rps)).toFixed(0)} req/s, RSS at the end of a run ${mib(median(own.map((r) => r.rss)))} (max ${mib(Math.max(...own.map((r) => r.rss)))})`;
      if (v === variants[0]) {
        console.log(line);
        continue;
      }
      const diffs = own.map((r, i) => r.cpu - first[i].cpu);
      const lower = diffs.filter((d) => d < 0).length;
      console.log(`${line}; vs ${variants[0].name}: ${median(diffs) >= 0 ? '+' : ''}${(1000 * median(diffs)).toFixed(1)} µs per request (median of the rounds' differences), lower in ${lower} of ${diffs.length} rounds`);
    }
  } finally {
    for (const child of children.reverse()) await child.stop();
    await mysql?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
