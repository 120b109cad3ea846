import express from 'express';
import supertest from 'supertest';
import { z } from 'zod';
import { createLokiStream } from '../../../src/shared/logging/lokiPush';
import { createLogger } from '../../../src/shared/logging/logger';
import { LOGGED_BODY, loggableBody, maskEmails, scrubLogLine } from '../../../src/shared/logging/redact';
import { chain, errorHandler, jsonBody, observeRequests, requestId } from '../../../src/shared/http/middleware';
import { RouteCatalogue } from '../../../src/shared/http/routes';
import { emailField, nameField, newPasswordField } from '../../../src/shared/http/schemas';
import { createMetrics } from '../../../src/shared/metrics/metrics';

// What the access log keeps of a request (issue 25: a 1 MB body was written whole, emails in clear).

/** Line size bound of the issue: about 1–2 KB per line in total. */
const LINE_BOUND = 2048;

describe('loggableBody', () => {
  test('when a body has long strings, many items and keys, and deep nesting, then each is cut and the whole stays under the bound', () => {
    const body = {
      name: 'n'.repeat(10_000),
      items: Array.from({ length: 500 }, (_, i) => ({ menuId: i, description: 'd'.repeat(500) })),
      wide: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v'.repeat(100)])),
      deep: { a: { b: { c: { d: { e: 'too deep' } } } } },
    };
    const logged = loggableBody(body);
    // Too big even once cut: the first maxChars characters of its JSON, as one string.
    expect(typeof logged).toBe('string');
    expect((logged as string).length).toBeLessThanOrEqual(LOGGED_BODY.maxChars + 1);
    expect(logged).not.toContain('n'.repeat(LOGGED_BODY.maxString + 1));
    expect(JSON.stringify(loggableBody({ deep: body.deep }))).toBe('{"deep":{"a":{"b":{"c":"…"}}}}');
    expect(loggableBody({ items: body.items.slice(0, 12).map(({ menuId }) => ({ menuId })) })).toEqual({ items: [...body.items.slice(0, 10).map(({ menuId }) => ({ menuId })), '…(12 items)'] });
  });

  test('when a small body has an email, a password and a token, then the email is masked and the secrets are replaced', () => {
    expect(loggableBody({ email: 'pizza.lover@jwt.com', password: 'hunter2-hunter2', token: 'abc', name: 'Ann', count: 3, ok: true, none: null })).toEqual({
      email: 'p***@jwt.com',
      password: '[REDACTED]',
      token: '[REDACTED]',
      name: 'Ann',
      count: 3,
      ok: true,
      none: null,
    });
  });
});

describe('maskEmails and scrubLogLine', () => {
  test('when a line holds addresses anywhere, then every one is masked to its first character and domain, and masking twice changes nothing', () => {
    const line = '{"msg":"a@jwt.com and Some.One+tag@mail.example.org","nested":{"to":"x_y@b.co"}}';
    const once = scrubLogLine(line);
    expect(once).toBe('{"msg":"a***@jwt.com and S***@mail.example.org","nested":{"to":"x***@b.co"}}');
    expect(scrubLogLine(once)).toBe(once);
  });

  test('when a line is a megabyte of address-like text without or with one @, then masking takes linear time (no regex stall)', () => {
    for (const text of ['a'.repeat(1_000_000), `${'a.'.repeat(500_000)}@`, `${'a'.repeat(500_000)}@${'b'.repeat(500_000)}`, 'a@'.repeat(500_000)]) {
      const started = performance.now();
      maskEmails(text);
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });
});

describe('access log lines pushed to Loki', () => {
  function appWithLoki() {
    const pushed: string[] = [];
    const stdout: string[] = [];
    const metrics = createMetrics({ defaultMetrics: false });
    const loki = createLokiStream({
      url: 'http://loki.test/loki/api/v1/push',
      labels: { service: 'svc', env: 'test' },
      metrics,
      fetchImpl: async (_url, init) => {
        const body = JSON.parse(init.body as string) as { streams: { values: [string, string][] }[] };
        for (const stream of body.streams) for (const [, line] of stream.values) pushed.push(line);
        return new Response(null, { status: 204 });
      },
    });
    const logger = createLogger({ level: 'info', streams: [loki.stream], destination: { write: (line: string) => void stdout.push(line) } as never });
    const catalogue = new RouteCatalogue();
    catalogue.router('/api/auth', [
      {
        method: 'POST',
        path: '/',
        auth: 'none',
        description: 'register-shaped route',
        body: z.object({ name: nameField, email: emailField, password: newPasswordField }),
        handle: () => ({ ok: true }),
      },
    ]);
    const app = express();
    app.use(chain(requestId(), observeRequests(metrics, logger)));
    app.use(jsonBody({ limit: '1mb', timeoutMs: 5000 }));
    app.use(catalogue.handler);
    app.use(errorHandler(logger));
    return { http: supertest(app), pushed, stdout, flush: () => loki.flush(), stop: () => loki.stop(100) };
  }

  test('when bodies of 1 MB, over the limit, of another type, or with fields the route drops are sent, then every pushed line stays under 2 KB, keeps only accepted fields, and holds no email in clear', async () => {
    const { http, pushed, stdout, flush, stop } = appWithLoki();
    try {
      const email = 'victim.person@example.com';
      // Refused at validation: a 1 MB name.
      expect((await http.post('/api/auth').set('Content-Type', 'application/json').send(JSON.stringify({ name: 'x'.repeat(1_000_000), email, password: 'long-enough' }))).status).toBe(400);
      // Refused before validation: over the body limit, and not JSON.
      expect((await http.post('/api/auth').set('Content-Type', 'application/json').send(JSON.stringify({ name: 'y'.repeat(1_100_000), email }))).status).toBe(413);
      expect((await http.post('/api/auth').set('Content-Type', 'text/plain').send(`${email} ${'z'.repeat(500_000)}`)).status).toBe(415);
      // Accepted, with a field the schema drops.
      expect((await http.post('/api/auth').send({ name: 'Pat', email, password: 'long-enough', notes: 'dropped-field-'.repeat(50_000) })).status).toBe(200);
      await flush();

      const http4 = pushed.map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.type === 'http');
      expect(http4.map((l) => l.status)).toEqual([400, 413, 415, 200]);
      for (const line of pushed) {
        expect(Buffer.byteLength(line)).toBeLessThan(LINE_BOUND);
        expect(line).not.toContain(email);
        expect(line).not.toMatch(/xxxxxxxxxx|yyyyyyyyyy|zzzzzzzzzz|dropped-field/);
      }
      // Refused requests: size and type only; the accepted one: its accepted fields, masked and redacted.
      for (const line of http4.slice(0, 3)) {
        expect(line.reqBody).toBeUndefined();
        expect(line.reqBytes).toBeGreaterThan(400_000);
        expect(typeof line.reqType).toBe('string');
      }
      expect(http4[3].reqBody).toEqual({ name: 'Pat', email: 'v***@example.com', password: '[REDACTED]' });
      // stdout gets the same scrubbed line as Loki.
      expect(stdout.filter((l) => l.includes('"type":"http"')).map((l) => l.trim())).toEqual(pushed.filter((l) => l.includes('"type":"http"')));
    } finally {
      await stop();
    }
  });
});
