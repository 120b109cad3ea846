import type autocannon from 'autocannon';
import type { LoadSpec } from './load';
import type { Dataset, SeededDiner } from './seed';

/** What a scenario sends; the URL, connections and duration are added by the runner. */
export type RequestShape = Omit<LoadSpec, 'url' | 'connections' | 'duration'>;

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Each connection takes the next diner in turn, so load spreads over many sessions and rows. */
function rotating(diners: SeededDiner[], build: (diner: SeededDiner, n: number) => Partial<autocannon.Request>, base: autocannon.Request): RequestShape {
  let n = 0;
  return {
    requests: [
      {
        ...base,
        setupRequest: (request) => {
          const diner = diners[n % diners.length];
          const extra = build(diner, n++);
          return { ...request, ...extra, headers: { ...request.headers, ...extra.headers } };
        },
      },
    ],
  };
}

export const shapes = {
  menu: (): RequestShape => ({ path: '/api/order/menu' }),
  franchiseAnon: (): RequestShape => ({ path: '/api/franchise?page=0&limit=10' }),
  franchiseAdmin: (data: Dataset): RequestShape => ({ path: '/api/franchise?page=0&limit=10', headers: { authorization: `Bearer ${data.adminToken}` } }),
  login: (data: Dataset): RequestShape =>
    rotating(data.diners, (d) => ({ body: JSON.stringify({ email: d.email, password: d.password }) }), { method: 'PUT', path: '/api/auth', headers: JSON_HEADERS }),
  history: (diners: SeededDiner[]): RequestShape =>
    rotating(diners, (d) => ({ headers: { authorization: `Bearer ${d.token}` } }), { method: 'GET', path: '/api/order?page=1' }),
  me: (data: Dataset): RequestShape => rotating(data.diners, (d) => ({ headers: { authorization: `Bearer ${d.token}` } }), { method: 'GET', path: '/api/user/me' }),
  /** 1 to 3 items from the menu, a different store each time (the frontend sends storeId as a string). */
  placeOrder: (data: Dataset): RequestShape =>
    rotating(
      data.diners,
      (d, n) => {
        const store = data.stores[(n * 7) % data.stores.length];
        const items = Array.from({ length: 1 + (n % 3) }, (_, k) => ({ menuId: data.menuIds[(n + k) % data.menuIds.length], description: 'pizza', price: 0.001 }));
        return { headers: { authorization: `Bearer ${d.token}` }, body: JSON.stringify({ franchiseId: store.franchiseId, storeId: String(store.storeId), items }) };
      },
      { method: 'POST', path: '/api/order', headers: JSON_HEADERS },
    ),
  /** The soak mix: each connection cycles through a page of the frontend's reads. */
  soakMix: (data: Dataset): RequestShape => {
    let n = 0;
    const auth = () => ({ authorization: `Bearer ${data.diners[n++ % data.diners.length].token}` });
    return {
      requests: [
        { method: 'GET', path: '/api/order/menu' },
        { method: 'GET', path: '/api/franchise?page=0&limit=10' },
        { method: 'GET', path: '/api/user/me', setupRequest: (r) => ({ ...r, headers: { ...r.headers, ...auth() } }) },
        { method: 'GET', path: '/api/order?page=1', setupRequest: (r) => ({ ...r, headers: { ...r.headers, ...auth() } }) },
      ],
    };
  },
};

/** The API scenarios by id, for tools that run one of them (bench/profile.ts, bench/compare.ts). */
export const SCENARIO_SHAPES: Record<string, (data: Dataset) => RequestShape> = {
  menu: () => shapes.menu(),
  'franchise-anon': () => shapes.franchiseAnon(),
  'franchise-admin': (d) => shapes.franchiseAdmin(d),
  'order-history': (d) => shapes.history(d.diners),
  'user-me': (d) => shapes.me(d),
  login: (d) => shapes.login(d),
  'order-post': (d) => shapes.placeOrder(d),
};
