// Diners and on-call, through the public API only: register diners, find the demo store, order pizzas
// at a steady cadence while traffic is "on", and (as the admin) find and call the factory report URL.
import { randomBytes, randomUUID } from 'node:crypto';

export interface OrderResult {
  ok: boolean;
  status: number;
  reason?: string;
  /** What the diner was told. */
  message?: string;
  at: number;
}

export interface TrafficStats {
  ok: number;
  failed: number;
  byReason: Record<string, number>;
  firstFailureAt?: number;
  lastFailureAt?: number;
  inFlight: number;
}

interface Diner {
  email: string;
  token: string;
}

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async call<T = Record<string, unknown>>(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    let body: unknown = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { message: text };
    }
    return { status: response.status, body: body as T };
  }

  async expect<T = Record<string, unknown>>(method: string, path: string, options: Parameters<ApiClient['call']>[2] = {}): Promise<T> {
    const { status, body } = await this.call<T>(method, path, options);
    if (status < 200 || status >= 300) throw new Error(`${method} ${path} answered ${status}: ${JSON.stringify(body).slice(0, 300)}`);
    return body;
  }
}

export interface Shop {
  franchiseId: number;
  storeId: number;
  franchiseName: string;
  storeName: string;
  menu: { id: number; title: string; price: number }[];
}

/** Registers `count` diners and finds a store and the menu, as the frontend would. */
export async function prepareDiners(api: ApiClient, count: number): Promise<{ diners: Diner[]; shop: Shop }> {
  const diners: Diner[] = [];
  const run = randomBytes(3).toString('hex');
  for (let i = 1; i <= count; i++) {
    const email = `gameday-diner-${run}-${i}@jwt.com`;
    const { token } = await api.expect<{ token: string }>('POST', '/api/auth', { body: { name: `Game-day diner ${i}`, email, password: randomBytes(12).toString('base64url') } });
    diners.push({ email, token });
  }
  const { franchises } = await api.expect<{ franchises: { id: number; name: string; stores: { id: number; name: string }[] }[] }>('GET', '/api/franchise?page=0&limit=10');
  const franchise = franchises.find((f) => f.stores.length > 0);
  if (!franchise) throw new Error('GET /api/franchise lists no franchise with a store (development seeds pizzaPocket/SLC)');
  const menu = await api.expect<{ id: number; title: string; price: number }[]>('GET', '/api/order/menu');
  if (!menu.length) throw new Error('the menu is empty');
  return { diners, shop: { franchiseId: franchise.id, storeId: franchise.stores[0]!.id, franchiseName: franchise.name, storeName: franchise.stores[0]!.name, menu } };
}

/** Places orders from rotating diners; keeps the counts. */
export class OrderPlacer {
  readonly stats: TrafficStats = { ok: 0, failed: 0, byReason: {}, inFlight: 0 };
  private next = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly api: ApiClient,
    private readonly diners: Diner[],
    private readonly shop: Shop,
    private readonly onResult: (result: OrderResult) => void = () => undefined,
  ) {}

  /** Fire and forget (bounded): the cadence never waits for a slow order. */
  placeOne(): void {
    if (this.stats.inFlight >= 20) return;
    const diner = this.diners[this.next++ % this.diners.length]!;
    const item = this.shop.menu[this.next % this.shop.menu.length]!;
    this.stats.inFlight++;
    const promise = this.api
      .call<{ reason?: string; message?: string }>('POST', '/api/order', {
        token: diner.token,
        headers: { 'Idempotency-Key': randomUUID() },
        body: { franchiseId: this.shop.franchiseId, storeId: this.shop.storeId, items: [{ menuId: item.id, description: item.title, price: item.price }] },
      })
      .then(
        ({ status, body }) => this.record({ ok: status === 200, status, reason: status === 200 ? undefined : (body.reason ?? `http_${status}`), message: body.message, at: Date.now() }),
        (error: Error) => this.record({ ok: false, status: 0, reason: `client_${error.name}`, at: Date.now() }),
      )
      .finally(() => {
        this.stats.inFlight--;
        this.pending.delete(promise);
      });
    this.pending.add(promise);
  }

  private record(result: OrderResult) {
    if (result.ok) this.stats.ok++;
    else {
      this.stats.failed++;
      const reason = result.reason ?? 'unknown';
      this.stats.byReason[reason] = (this.stats.byReason[reason] ?? 0) + 1;
      this.stats.firstFailureAt ??= result.at;
      this.stats.lastFailureAt = result.at;
    }
    this.onResult(result);
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
