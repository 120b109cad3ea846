import express, { type ErrorRequestHandler } from 'express';
import supertest from 'supertest';
import { z } from 'zod';
import { routeLabel } from '../../../src/shared/http/middleware';
import { RawJson, RouteCatalogue, type RouteSpec } from '../../../src/shared/http/routes';

// The catalogue answers a fixed-path route from a map instead of walking the router; these tests hold it to
// answering every request exactly as Express's router would.

const answer = (name: string, extra: Partial<RouteSpec<any, any, any>> = {}): RouteSpec<any, any, any> => ({
  method: 'GET',
  path: '/',
  auth: 'none',
  description: name,
  handle: ({ req }) => ({ name, label: routeLabel(req), params: req.params }),
  ...extra,
});

function appWith(register: (catalogue: RouteCatalogue) => void) {
  const catalogue = new RouteCatalogue();
  register(catalogue);
  const app = express();
  app.use(catalogue.handler);
  app.use((_req, res) => void res.status(404).json({ message: 'unknown endpoint' }));
  const onError: ErrorRequestHandler = (error: Error & { status?: number }, _req, res, _next) => {
    res.status(error.status ?? 500).json({ message: error.message });
  };
  app.use(onError);
  return supertest(app);
}

describe('RouteCatalogue.handler', () => {
  test('when a fixed path is asked for exactly, then its route answers, with its full path as the route label and no params', async () => {
    const app = appWith((c) => c.router('/api/order', [answer('menu', { path: '/menu' })]));

    const res = await app.get('/api/order/menu');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'menu', label: '/api/order/menu', params: {} });
  });

  test('when an earlier route with a parameter also matches a fixed path, then the earlier route answers, as in the router', async () => {
    const app = appWith((c) => c.router('/api/user', [answer('byId', { path: '/:userId' }), answer('me', { path: '/me' })]));

    const res = await app.get('/api/user/me');

    expect(res.body).toEqual({ name: 'byId', label: '/api/user/:userId', params: { userId: 'me' } });
  });

  test('when an earlier route takes another method on the same path, then the fixed route still answers its own method', async () => {
    const app = appWith((c) => c.router('/api/order', [answer('put', { method: 'PUT', path: '/menu' }), answer('get', { path: '/menu' })]));

    expect((await app.get('/api/order/menu')).body.name).toBe('get');
    expect((await app.put('/api/order/menu')).body.name).toBe('put');
  });

  test.each([
    ['another letter case', '/API/Order/Menu'],
    ['a trailing slash', '/api/order/menu/'],
    ['a query string', '/api/order/menu?x=1'],
  ])('when the path comes with %s, then the router answers it as before', async (_what, path) => {
    const app = appWith((c) => c.router('/api/order', [answer('menu', { path: '/menu' })]));

    const res = await app.get(path);

    expect(res.status).toBe(200);
    expect(res.body.name).toBe('menu');
  });

  test('when HEAD asks for a fixed path, then the GET route answers it without a body', async () => {
    const app = appWith((c) => c.router('/api/order', [answer('menu', { path: '/menu', handle: () => new RawJson('{"a":1}') })]));

    const res = await app.head('/api/order/menu');

    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('7');
  });

  test('when a method no route takes is asked for, then the request goes on to what follows the catalogue', async () => {
    const app = appWith((c) => c.router('/api/order', [answer('menu', { path: '/menu' })]));

    const res = await app.delete('/api/order/menu');

    expect([res.status, res.body]).toEqual([404, { message: 'unknown endpoint' }]);
  });

  test('when a fixed route refuses its input, then the error reaches the error handler as a 400', async () => {
    const app = appWith((c) => c.router('/api/order', [answer('history', { path: '/', query: z.object({ page: z.coerce.number().int().min(0) }) })]));

    const res = await app.get('/api/order?page=-1');

    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/invalid page/);
  });

  test('when a handler answers at once or through a promise, then both answers are the same, and a rejection reaches the error handler', async () => {
    const app = appWith((c) =>
      c.router('/t', [
        answer('now', { path: '/now', handle: () => ({ v: 1 }) }),
        answer('later', { path: '/later', handle: async () => ({ v: 1 }) }),
        answer('fails', { path: '/fails', handle: async () => Promise.reject(new Error('boom')) }),
      ]),
    );

    expect((await app.get('/t/now')).body).toEqual({ v: 1 });
    expect((await app.get('/t/later')).body).toEqual({ v: 1 });
    expect(await app.get('/t/fails')).toMatchObject({ status: 500, body: { message: 'boom' } });
  });
});
