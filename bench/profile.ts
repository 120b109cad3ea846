/**
 * Where does a scenario's CPU go? `npx tsx bench/profile.ts --scenario=franchise-admin [--backend=mysql]
 * [--duration=10] [--telemetry=false] [--seeded] [--external-factory] [--connections=50]`: seeds a database through one service process, then
 * starts a second one with `node --cpu-prof` (with --seeded, profiles the seeding process itself), runs
 * only that scenario against it, stops it, and prints the functions and packages with the most self time.
 * The .cpuprofile is kept in $TMPDIR/jwt-pizza-profiles/ (open it in Chrome DevTools or speedscope for the
 * call tree); `--file=<.cpuprofile>` only summarizes one. `--external-factory` runs the factory simulator in
 * a process of its own (as production's factory is elsewhere): the order's RS256 signing then leaves the profile.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { benchServiceEnv, buildForBench, PROFILE_DIR, ROOT, spawnServer } from './lib/children';
import { runLoad } from './lib/load';
import { createBenchDatabase } from './lib/mysqlAdmin';
import { SCENARIO_SHAPES } from './lib/scenarios';
import { seedThroughApi } from './lib/seed';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }

function where(url: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  // The service runs from its build (dist/), laid out as src/.
  for (const dir of ['/dist/', '/src/']) if (url.includes(dir)) return `src/${url.split(dir)[1].split('/')[0]}`;
  if (url.startsWith('node:')) return url;
  return url ? 'other' : '(native/gc/idle)';
}

function summarize(file: string, top = 30): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; endTime: number };
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += hits;
    const key = `${functionName || '(anonymous)'}  ${url.replace(`file://${ROOT}/`, '')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const place = functionName.startsWith('(') ? functionName : where(url);
    byPlace.set(place, (byPlace.get(place) ?? 0) + hits);
  }
  const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
  // Inclusive time: a sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const nodesById = new Map(profile.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits || node.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = nodesById.get(id)!.callFrame;
      if (!frame.url || frame.url.startsWith('node:')) continue;
      const key = `${frame.functionName || '(anonymous)'}  ${frame.url.replace(`file://${ROOT}/`, '')}:${frame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    }
  }
  console.log(`\nself time by package/folder (busy samples: ${total}):`);
  for (const [k, v] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${pct(v)}  ${k}`);
  console.log('\ninclusive time (application and package frames):');
  for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(v)}  ${k}`);
  console.log('\nself time by function:');
  for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(v)}  ${k}`);
}

async function main(): Promise<void> {
  const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
  const existing = args.get('file');
  if (existing) return summarize(existing, Number(args.get('top') ?? 30));
  const scenario = args.get('scenario') ?? 'menu';
  if (!SCENARIO_SHAPES[scenario]) throw new Error(`--scenario must be one of ${Object.keys(SCENARIO_SHAPES).join(', ')}`);
  const backend = args.get('backend') ?? 'mysql';
  const duration = Number(args.get('duration') ?? 10);
  const connections = Number(args.get('connections') ?? 50);
  buildForBench();
  const work = mkdtempSync(join(os.tmpdir(), 'jwt-pizza-profile-'));
  const profileDir = PROFILE_DIR;
  const mysql = backend === 'mysql' ? await createBenchDatabase(process.env.BENCH_MYSQL_URL ?? process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306') : undefined;
  const admin = { email: 'bench-admin@bench.jwt', password: randomBytes(12).toString('hex') };
  const factoryKey = randomBytes(16).toString('hex');
  const factory = args.has('external-factory')
    ? await spawnServer({ name: 'profile-factory', entry: 'src/factory/simulator/main.ts', env: { FACTORY_HOST: '127.0.0.1', FACTORY_API_KEY: factoryKey, FACTORY_ADMIN_KEY: `${factoryKey}-admin` }, logDir: work, portEnv: 'FACTORY_PORT' })
    : undefined;
  const env = benchServiceEnv({
    databaseUrl: mysql?.url ?? `sqlite:${join(work, 'pizza.db')}`,
    dataDir: work,
    jwtSecret: randomBytes(32).toString('hex'),
    admin,
    extra: { LOG_LEVEL: args.get('log-level') ?? 'info', TELEMETRY_ENABLED: args.get('telemetry') ?? 'true', ...(factory ? { FACTORY_URL: factory.url, FACTORY_API_KEY: factoryKey } : {}) },
  });
  try {
    // --seeded profiles the process that did the seeding, as the benchmark's main scenarios measure it
    // (it has served every kind of request before); by default a new process with the same data.
    const seeded = args.has('seeded');
    const before = new Set(safeList(profileDir));
    const seeder = await spawnServer({ name: seeded ? `profile-${scenario}` : 'profile-seed', entry: 'src/server.ts', env, logDir: work, profileDir: seeded ? profileDir : undefined });
    console.log('seeding through the API ...');
    const data = await seedThroughApi(seeder.url, admin);
    if (!seeded) await seeder.stop();
    const server = seeded ? seeder : await spawnServer({ name: `profile-${scenario}`, entry: 'src/server.ts', env, logDir: work, profileDir });
    const shape = SCENARIO_SHAPES[scenario](data);
    await runLoad({ ...shape, url: server.url, connections, duration: 2 });
    const cpuBefore = server.cpuSeconds();
    const result = await runLoad({ ...shape, url: server.url, connections, duration });
    const cpuMs = ((server.cpuSeconds() - cpuBefore) * 1000) / Math.max(1, result.total);
    console.log(`${scenario}${seeded ? ' (seeded process)' : ''}: ${Math.round(result.reqPerSec)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, cpu ${cpuMs.toFixed(3)} ms/req, non-2xx ${result.non2xx}, errors ${result.errors}`);
    await server.idle();
    await server.stop();
    const dir = safeList(profileDir).find((f) => !before.has(f) && f.startsWith(`profile-${scenario}`));
    const files = dir ? safeList(join(profileDir, dir)).map((f) => join(profileDir, dir, f)) : [];
    const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (!main) throw new Error('no CPU profile was written');
    console.log(`\nprofile: ${main.replace(`${ROOT}/`, '')}`);
    summarize(main, Number(args.get('top') ?? 30));
  } finally {
    await factory?.stop();
    await mysql?.drop();
    rmSync(work, { recursive: true, force: true });
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
