// The built service (dist/server.js) in a child process, for the tracing tests: the SDK's require hooks
// (node:http) do not take effect inside jest's module loader, so traces are proven on the real entry point.
// `npm test` (its pretest) and .ci/run build dist/ before the tests; `npx jest` alone needs `npm run build` first.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');
const ENTRY = join(ROOT, 'dist', 'server.js');

export const ADMIN = { email: 'admin@tracing.test', password: 'tracing-admin-password-0451' };
export const JWT_SECRET = 'tracing-tests-jwt-secret-that-is-long-enough-7f3a9c';

export interface BuiltService {
  url: string;
  child: ChildProcess;
  /** Every JSON line the service has written to stdout so far. */
  logs(): Record<string, any>[];
  stderr(): string;
  /** SIGTERM, then SIGKILL after 15 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export async function startBuiltService(env: Record<string, string>): Promise<BuiltService> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} not found: run \`npm run build\` first (.ci/run builds before the tests)`);
  // A build older than the sources would test yesterday's code and pass or fail for the wrong reason.
  if (newestMtime(join(ROOT, 'src')) > statSync(ENTRY).mtimeMs) throw new Error('src/ is newer than dist/: run `npm run build` before the tracing tests');
  const dir = mkdtempSync(join(tmpdir(), 'jwt-pizza-tracing-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')));
  const child = spawn(process.execPath, [ENTRY], {
    // A directory of its own: no .env of the checkout is read.
    cwd: dir,
    env: {
      ...inherited,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      FACTORY_PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'pizza.db')}`,
      DATA_DIR: dir,
      JWT_SECRET,
      BCRYPT_ROUNDS: '4',
      LOG_LEVEL: 'info',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      SHUTDOWN_TIMEOUT_MS: '3000',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const logs = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, any>);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
    return child.exitCode;
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    const listening = logs().find((line) => line.msg === 'jwt-pizza-service listening');
    if (listening) return { url: listening.url as string, child, logs, stderr: () => stderr, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the built service did not start (exit ${child.exitCode}):\n${stderr}\n${stdout.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

export async function call(base: string, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${base}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** The trace id of a `traceresponse` header (W3C Trace Context level 2). */
export function traceIdOf(answer: Answer): string {
  const header = answer.headers.get('traceresponse') ?? '';
  const match = /^00-([\da-f]{32})-([\da-f]{16})-0[01]$/.exec(header);
  if (!match) throw new Error(`no traceresponse header in the answer (got "${header}")`);
  return match[1]!;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** An admin token, a franchise with one store, a new diner. */
export async function setUpShop(base: string, tag: string): Promise<{ adminToken: string; franchiseId: number; storeId: number; diner: { token: string; email: string; password: string; id: number } }> {
  const admin = await call(base, 'PUT', '/api/auth', { body: ADMIN });
  if (admin.status !== 200) throw new Error(`admin login: ${admin.status}`);
  const adminToken = admin.body.token as string;
  const franchise = await call(base, 'POST', '/api/franchise', { token: adminToken, body: { name: `${tag}-franchise-${Date.now()}`, admins: [] } });
  const store = await call(base, 'POST', `/api/franchise/${franchise.body.id}/store`, { token: adminToken, body: { name: `${tag} store` } });
  const diner = { email: `${tag}-${Date.now().toString(36)}@tracing.test`, password: `${tag}-diner-password-31337` };
  const registered = await call(base, 'POST', '/api/auth', { body: { name: `${tag} diner`, ...diner } });
  if (registered.status !== 200) throw new Error(`register: ${registered.status}`);
  return { adminToken, franchiseId: franchise.body.id, storeId: store.body.id, diner: { ...diner, token: registered.body.token, id: registered.body.user.id } };
}
