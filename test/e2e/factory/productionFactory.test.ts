import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { createFactorySimulator, type FactorySimulator } from '../../../src/factory/simulator';
import { registerDiner, request, setUpStore, spawnService, tempDir, waitFor, type SpawnedService } from '../../faults/support';

// The service as it runs against the production factory: `FACTORY_URL=https://localhost` on the standard port, TLS
// with a certificate the service trusts through NODE_EXTRA_CA_CERTS, and a factory answering as the recordings do
// (the simulator's defaults: header claims, production texts, https report URLs without a port). Six healthy orders,
// then fail, badjwt and throttle chaos, each ended by one report action, after which the next order is fulfilled.

jest.setTimeout(120_000);

const API_KEY = `production-like-key-${process.pid}`;
const TIMEOUT_MS = 1000;
const THROTTLE_MS = 2500;

function selfSignedCertificate(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, 'factory.key');
  const certFile = join(dir, 'factory.crt');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1', '-keyout', keyFile, '-out', certFile], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl could not make the test certificate: ${made.stderr}`);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** The factory on https port 443 of loopback (both address families, as `localhost` may resolve to either). */
async function listenOn443(server: https.Server): Promise<void> {
  const listen = (host: string, ipv6Only?: boolean) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 443, host, ...(ipv6Only === undefined ? {} : { ipv6Only }) }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen('::', false);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error('port 443 is taken: this test needs it for a factory on the standard https port');
    await listen('127.0.0.1');
  }
}

describe('the service against a factory answering as production does, over TLS on the standard port', () => {
  const dir = tempDir('jwt-pizza-tls-factory-');
  let simulator: FactorySimulator;
  let factoryServer: https.Server;
  let service: SpawnedService;
  let diner: { token: string };
  let store: { adminToken: string; franchiseId: number; storeId: number };

  beforeAll(async () => {
    const tls = selfSignedCertificate(dir.path);
    simulator = createFactorySimulator({ apiKey: API_KEY, adminKey: `admin-${API_KEY}`, throttleDelayMs: THROTTLE_MS });
    factoryServer = https.createServer({ key: tls.key, cert: tls.cert }, simulator.app);
    await listenOn443(factoryServer);
    service = await spawnService(
      {
        DATABASE_URL: `sqlite:${join(dir.path, 'pizza.db')}`,
        FACTORY_URL: 'https://localhost',
        FACTORY_API_KEY: API_KEY,
        NODE_EXTRA_CA_CERTS: tls.certFile,
        FACTORY_TIMEOUT_MS: String(TIMEOUT_MS),
        FACTORY_LATE_ANSWER_MS: '20000',
        JWT_SECRET: 'tls-factory-test-secret-that-is-long-enough-0451',
        BCRYPT_ROUNDS: '4',
        ADMIN_EMAIL: 'admin@faults.test',
        ADMIN_PASSWORD: 'fault-admin-password',
        RATE_LIMIT_PER_MINUTE: '0',
      },
      { cwd: dir.path },
    );
    store = await setUpStore(service.url);
    diner = await registerDiner(service.url, 'tls-diner');
  });

  afterAll(async () => {
    await service?.stop();
    simulator?.dispose();
    factoryServer?.closeAllConnections();
    await new Promise((resolve) => factoryServer?.close(resolve));
    dir.remove();
  });

  const placeOrder = () =>
    request(service.url, 'POST', '/api/order', { token: diner.token, body: { franchiseId: store.franchiseId, storeId: store.storeId, items: [{ menuId: 1 }] }, timeoutMs: 10_000 });
  const report = () => request(service.url, 'POST', '/api/order/factory/report', { token: store.adminToken, timeoutMs: 10_000 });

  test('when six healthy orders are placed, then each is fulfilled with a pizza whose claims are in its JWS header', async () => {
    for (let i = 0; i < 6; i++) {
      const res = await placeOrder();
      expect([res.status, res.body.order?.id > 0]).toEqual([200, true]);
      const header = JSON.parse(Buffer.from((res.body.jwt as string).split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(Object.keys(header)).toEqual(['iat', 'exp', 'iss', 'alg', 'kid']);
    }
  });

  test.each(['fail', 'badjwt'] as const)('when %s chaos strikes, then one report action ends it over https and the next order is fulfilled', async (type) => {
    simulator.chaos.activate(type);
    const failed = await placeOrder();
    expect([failed.status, failed.body.reason]).toEqual([502, type === 'fail' ? 'factory_error' : 'invalid_jwt']);

    const resolved = await report();
    expect([resolved.status, resolved.body.outcome, resolved.body.orderId]).toEqual([200, 'resolved', failed.body.orderId]);
    expect(resolved.body.reportUrl).toMatch(/^https:\/\/localhost\/api\/support\/\[REDACTED\]\/report\/[a-z0-9]{8}$/);
    expect(simulator.chaos.current()).toBeNull();
    expect((await placeOrder()).status).toBe(200);
  });

  test('when a throttle holds orders past the timeout, then its late answer brings the report URL and one report action ends it', async () => {
    simulator.chaos.activate('throttle');
    const held = await placeOrder();
    expect([held.status, held.body.reason]).toEqual([503, 'timeout']);

    await waitFor('the late answer stores its report URL', async () => {
      const failures = await request(service.url, 'GET', '/api/order/failures', { token: store.adminToken });
      return (failures.body.failures as { orderId: number; reportUrl: string | null }[]).some((f) => f.orderId === held.body.orderId && f.reportUrl);
    }, THROTTLE_MS + 10_000);
    const resolved = await report();
    expect([resolved.status, resolved.body.outcome, resolved.body.orderId]).toEqual([200, 'resolved', held.body.orderId]);
    expect((await placeOrder()).status).toBe(200);
    expect(service.output()).not.toContain(API_KEY);
  });
});
