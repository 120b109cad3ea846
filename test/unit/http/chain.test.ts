import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import supertest from 'supertest';
import { chain } from '../../../src/shared/http/middleware';

/** An app with one chain, a final route and an error handler that reports what reached it. */
function appWith(...handlers: RequestHandler[]) {
  const app = express();
  app.use(chain(...handlers));
  app.get('/', (_req, res) => {
    res.json({ seen: res.locals.seen ?? [] });
  });
  const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => {
    res.status(500).json({ error: error.message, seen: res.locals.seen ?? [] });
  };
  app.use(onError);
  return supertest(app);
}

const mark = (name: string): RequestHandler => (_req, res, next) => {
  res.locals.seen = [...(res.locals.seen ?? []), name];
  next();
};

describe('chain (several middlewares as one router layer)', () => {
  test('when every handler calls next, then they run in order and the request reaches the route', async () => {
    const res = await appWith(mark('a'), mark('b'), mark('c')).get('/');

    expect(res.body).toEqual({ seen: ['a', 'b', 'c'] });
  });

  test('when a handler answers, then the rest of the chain and the route do not run', async () => {
    const answer: RequestHandler = (_req, res) => {
      res.status(403).json({ seen: [...res.locals.seen, 'answered'] });
    };

    const res = await appWith(mark('a'), answer, mark('never')).get('/');

    expect(res.status).toBe(403);
    expect(res.body).toEqual({ seen: ['a', 'answered'] });
  });

  test.each([
    ['throws', ((): void => {
      throw new Error('thrown');
    }) as RequestHandler],
    ['rejects', (async () => {
      throw new Error('rejected');
    }) as RequestHandler],
    ['passes an error to next', ((_req, _res, next) => next(new Error('passed'))) as RequestHandler],
  ])('when a handler %s, then the error handler gets the error and later handlers do not run', async (_how, failing) => {
    const res = await appWith(mark('a'), failing, mark('never')).get('/');

    expect(res.status).toBe(500);
    expect(res.body.seen).toEqual(['a']);
    expect(res.body.error).toMatch(/thrown|rejected|passed/);
  });

  test('when an async handler calls next after awaiting, then the chain continues', async () => {
    const later: RequestHandler = async (_req, res, next) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      res.locals.seen = [...res.locals.seen, 'async'];
      next();
    };

    const res = await appWith(mark('a'), later, mark('b')).get('/');

    expect(res.body).toEqual({ seen: ['a', 'async', 'b'] });
  });
});
