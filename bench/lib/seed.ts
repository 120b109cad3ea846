/**
 * The 1x dataset, created THROUGH THE API of the running service, as real clients would: the menu,
 * 100 franchisees with a franchise and 3 stores each, and 200 diners with a few orders each (through
 * the factory simulator, pizza JWTs verified). Bulk data for the scale scenarios is in bulkSeed.ts.
 */

export interface SeedSizes {
  franchises: number;
  storesPerFranchise: number;
  diners: number;
  /** Orders per diner are drawn from 1..2*average-1. */
  averageOrdersPerDiner: number;
}

export const DEFAULT_SIZES: SeedSizes = { franchises: 100, storesPerFranchise: 3, diners: 200, averageOrdersPerDiner: 3 };

export interface SeededDiner { id: number; email: string; password: string; token: string }
export interface SeededStore { franchiseId: number; storeId: number }

export interface Dataset {
  adminToken: string;
  menuIds: number[];
  diners: SeededDiner[];
  stores: SeededStore[];
  franchiseIds: number[];
  orders: number;
  seconds: number;
}

const EXTRA_MENU = [
  { title: 'Hawaiian', description: 'Pineapple, bravely', image: 'pizza6.png', price: 0.0041 },
  { title: 'Quattro Formaggi', description: 'Four cheeses, no regrets', image: 'pizza7.png', price: 0.0052 },
  { title: 'Diavola', description: 'Hot salami and chili', image: 'pizza8.png', price: 0.0047 },
  { title: 'Funghi', description: 'Mushrooms from the forest', image: 'pizza9.png', price: 0.0036 },
  { title: 'Marinara', description: 'Tomato, garlic, oregano', image: 'pizza10.png', price: 0.0025 },
];

export const DINER_PASSWORD = 'bench-diner-password';

/** Deterministic dice, so every backend gets the same dataset. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

class Api {
  constructor(private readonly base: string) {}

  async call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    if (!response.ok) throw new Error(`seed: ${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }
}

async function inParallel<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index], index);
      }
    }),
  );
  return results;
}

export async function seedThroughApi(
  baseUrl: string,
  admin: { email: string; password: string },
  sizes: SeedSizes = DEFAULT_SIZES,
  onProgress: (message: string) => void = () => undefined,
): Promise<Dataset> {
  const started = performance.now();
  const api = new Api(baseUrl);
  const random = seededRandom(42);
  const { token: adminToken } = await api.call<{ token: string }>('PUT', '/api/auth', admin);

  for (const item of EXTRA_MENU) await api.call('PUT', '/api/order/menu', item, adminToken);
  const menu = await api.call<{ id: number }[]>('GET', '/api/order/menu');
  const menuIds = menu.map((m) => m.id);

  // Registration hashes with bcrypt (cost 10): the thread pool does them 4 at a time.
  onProgress(`registering ${sizes.franchises} franchisees`);
  const franchisees = await inParallel(Array.from({ length: sizes.franchises }, (_, i) => i), 8, (i) =>
    api.call<{ user: { id: number; email: string } }>('POST', '/api/auth', { name: `franchisee ${i}`, email: `franchisee${i}@bench.jwt`, password: 'bench-franchisee-password' }),
  );
  onProgress(`creating ${sizes.franchises} franchises with ${sizes.storesPerFranchise} stores each`);
  const franchiseIds = await inParallel(franchisees, 8, async (f, i) => {
    const franchise = await api.call<{ id: number }>('POST', '/api/franchise', { name: `Bench Pizza ${String(i).padStart(4, '0')}`, admins: [{ email: f.user.email }] }, adminToken);
    return franchise.id;
  });
  const storeRequests = franchiseIds.flatMap((franchiseId) => Array.from({ length: sizes.storesPerFranchise }, (_, s) => ({ franchiseId, name: `Store ${franchiseId}-${s}` })));
  const stores = await inParallel(storeRequests, 8, async (s) => {
    const store = await api.call<{ id: number }>('POST', `/api/franchise/${s.franchiseId}/store`, { name: s.name }, adminToken);
    return { franchiseId: s.franchiseId, storeId: store.id };
  });

  onProgress(`registering ${sizes.diners} diners`);
  const diners = await inParallel(Array.from({ length: sizes.diners }, (_, i) => i), 8, async (i) => {
    const email = `diner${i}@bench.jwt`;
    const result = await api.call<{ user: { id: number }; token: string }>('POST', '/api/auth', { name: `diner ${i}`, email, password: DINER_PASSWORD });
    return { id: result.user.id, email, password: DINER_PASSWORD, token: result.token };
  });

  const orderPlan = diners.flatMap((diner) => {
    const count = 1 + Math.floor(random() * (2 * sizes.averageOrdersPerDiner - 1));
    return Array.from({ length: count }, () => ({ diner, store: stores[Math.floor(random() * stores.length)], items: 1 + Math.floor(random() * 3) }));
  });
  onProgress(`placing ${orderPlan.length} orders`);
  await inParallel(orderPlan, 8, (o) =>
    api.call(
      'POST',
      '/api/order',
      {
        franchiseId: o.store.franchiseId,
        storeId: String(o.store.storeId),
        items: Array.from({ length: o.items }, (_, k) => {
          const item = menu[(o.diner.id + k) % menu.length] as { id: number; title?: string; price?: number };
          return { menuId: item.id, description: item.title, price: item.price };
        }),
      },
      o.diner.token,
    ),
  );

  return { adminToken, menuIds, diners, stores, franchiseIds, orders: orderPlan.length, seconds: (performance.now() - started) / 1000 };
}
