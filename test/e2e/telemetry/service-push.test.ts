import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../src/config';
import { startService, type RunningService } from '../../../src/service';
import { startLokiReceiver } from './lokiReceiver';
import { startPrometheus, type PromSample, type RunningPrometheus } from './prometheus';

// The whole service, configured only through its environment, pushing to a real Prometheus and a
// Loki stand-in while it serves traffic; then a graceful shutdown delivers the last lines.

const SOURCE = 'jwt-pizza-service';
const WRONG_PASSWORD = 'hunter2-wrong-pw';

let prometheus: RunningPrometheus;
let loki: Awaited<ReturnType<typeof startLokiReceiver>>;
let service: RunningService | undefined;
let dataDir: string;
const stdout: string[] = [];

beforeAll(async () => {
  [prometheus, loki, dataDir] = await Promise.all([startPrometheus(), startLokiReceiver(), mkdtemp(path.join(os.tmpdir(), 'jwt-pizza-telemetry-'))]);
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    FACTORY_PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${path.join(dataDir, 'pizza.db')}`,
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: 'info',
    METRICS_SOURCE: SOURCE,
    METRICS_PUSH_URL: prometheus.writeUrl,
    METRICS_PUSH_INTERVAL: '0.2',
    LOGS_PUSH_URL: loki.url,
    LOGS_PUSH_USER: '4242',
    LOGS_PUSH_PASSWORD: 'glc_loki-secret',
  });
  service = await startService(config, { logDestination: { write: (line: string) => void stdout.push(line) }, isTty: false });
}, 60_000);

afterAll(async () => {
  await service?.shutdown('test done').catch(() => undefined);
  await Promise.all([prometheus?.stop(), loki?.close(), dataDir && rm(dataDir, { recursive: true, force: true })]);
});

const valueOf = (result: PromSample[]) => (result.length === 1 ? Number(result[0]!.value[1]) : NaN);

async function waitFor(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('when the service serves traffic, then its metrics reach Prometheus and its logs reach Loki, without secrets', async () => {
  const base = service!.url;
  for (let i = 0; i < 5; i++) expect((await fetch(`${base}/api/order/menu`)).status).toBe(200);
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${base}/api/auth`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'nobody@test.jwt', password: WRONG_PASSWORD }) });
    expect(response.status).toBeGreaterThanOrEqual(400);
  }
  await fetch(`${base}/prod/.env`);

  const menu = await prometheus.queryUntil(`http_requests_total{source="${SOURCE}",route="/api/order/menu",method="GET",status_code="200"}`, (r) => valueOf(r) === 5, 15_000);
  expect(menu[0]!.metric.instance).toBeTruthy();
  await prometheus.queryUntil(`auth_attempts_total{source="${SOURCE}",action="login",outcome="failure"}`, (r) => valueOf(r) === 2, 10_000);
  await prometheus.queryUntil(`http_suspicious_requests_total{source="${SOURCE}",category="dotenv"}`, (r) => valueOf(r) === 1, 10_000);
  const p99 = valueOf(await prometheus.query(`histogram_quantile(0.99, sum by (le) (http_request_duration_seconds_bucket{source="${SOURCE}",route="/api/order/menu"}))`));
  expect(p99).toBeGreaterThan(0);
  const memory = valueOf(await prometheus.query(`system_memory_percent{source="${SOURCE}"}`));
  expect(memory).toBeGreaterThan(0);
  expect(memory).toBeLessThanOrEqual(100);

  await waitFor(() => loki.lines().filter((l) => l.includes('"route":"/api/order/menu"')).length >= 5, 15_000, 'menu request lines in Loki');
  await waitFor(() => loki.lines().some((l) => l.includes('"type":"security"')), 15_000, 'a security line in Loki');
  expect(loki.formatErrors).toEqual([]);
  expect(loki.authorizations[0]).toBe(`Basic ${Buffer.from('4242:glc_loki-secret').toString('base64')}`);
  const types = new Set(loki.accepted.flatMap((p) => p.streams.map((s) => s.stream.type)));
  expect([...types]).toEqual(expect.arrayContaining(['http', 'security']));
  for (const text of [loki.lines().join('\n'), stdout.join('')]) {
    expect(text).not.toContain(WRONG_PASSWORD);
    expect(text).not.toContain('glc_loki-secret');
  }

  // Graceful shutdown flushes what was logged during the drain.
  await service!.shutdown('test');
  expect(loki.lines().some((l) => l.includes('shutdown complete'))).toBe(true);
  service = undefined;
});
