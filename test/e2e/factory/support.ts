import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { startFactorySimulator, type RunningFactorySimulator, type StartFactorySimulatorOptions } from '../../../src/factory/simulator';
import type { FactoryOrderRequest, FactoryOutcome } from '../../../src/factory/types';

let nextId = Math.floor(Math.random() * 1_000_000);

export function buildOrderRequest(overrides: { items?: FactoryOrderRequest['order']['items'] } = {}): FactoryOrderRequest {
  nextId += 1;
  return {
    diner: { id: nextId, name: `diner ${nextId}`, email: `diner${nextId}@jwt.com` },
    order: {
      id: nextId * 10,
      franchiseId: 1,
      storeId: 2,
      items: overrides.items ?? [{ menuId: 1, description: 'Veggie', price: 0.0038 }],
    },
  };
}

export interface TestFactory extends RunningFactorySimulator {
  apiKey: string;
  adminKey: string;
  admin(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

export async function startTestFactory(options: Partial<StartFactorySimulatorOptions> = {}): Promise<TestFactory> {
  const apiKey = `vendor-key-${randomUUID()}`;
  const adminKey = `admin-key-${randomUUID()}`;
  const running = await startFactorySimulator({ apiKey, adminKey, oven: { fullDelayMs: 50 }, throttleDelayMs: 1500, ...options });
  return {
    ...running,
    apiKey: options.apiKey ?? apiKey,
    adminKey: options.adminKey ?? adminKey,
    async admin(method, path, body) {
      const response = await fetch(`${running.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.adminKey ?? adminKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
  };
}

export function createLogCapture(): { logger: Logger; lines(): Record<string, unknown>[]; text(): string } {
  const chunks: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (chunk: string) => void chunks.push(chunk) });
  return {
    logger,
    lines: () => chunks.map((chunk) => JSON.parse(chunk) as Record<string, unknown>),
    text: () => chunks.join(''),
  };
}

export function manualClock(start = Date.now()): { now: () => number; advance(ms: number): void } {
  let current = start;
  return { now: () => current, advance: (ms) => void (current += ms) };
}

/** Fails the test when a diner-facing message leaks the key or any URL. */
export function expectDinerSafe(outcome: FactoryOutcome, apiKey: string): void {
  if (outcome.kind !== 'failed') throw new Error(`expected a failed outcome, got ${outcome.kind}`);
  expect(outcome.message).not.toContain(apiKey);
  expect(outcome.message).not.toMatch(/https?:|\/api\/support/);
}

export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
