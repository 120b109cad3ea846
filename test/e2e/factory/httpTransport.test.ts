import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createFactoryClient } from '../../../src/factory/client';
import { createJsonTransport, TransportError, type JsonTransport } from '../../../src/factory/httpTransport';
import { buildOrderRequest, closedPort, createLogCapture } from './support';

/** Listens on loopback; counts the connections it accepts and cuts the open ones on close. */
async function listening(server: Server) {
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/order`),
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A server of raw sockets: what it does with each connection, and with the request it reads, is the test's. */
function rawServer(onConnection: (socket: Socket, requestText: Promise<string>) => void) {
  return listening(
    createTcpServer((socket) => {
      socket.on('error', () => undefined);
      const requestText = new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
          if (text.includes('\r\n\r\n')) resolve(text);
        });
      });
      onConnection(socket, requestText);
    }),
  );
}

function httpServer(handler: (request: IncomingMessage, response: ServerResponse) => void) {
  return listening(createHttpServer(handler));
}

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

describe('the factory JSON transport', () => {
  let transport: JsonTransport;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(() => {
    transport = createJsonTransport();
  });

  afterEach(async () => {
    transport.close();
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  test('when the server answers JSON, then status and body come back, and the request carried its JSON body and headers', async () => {
    let seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    const server = await httpServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        seen = { method: request.method, headers: request.headers, body };
        response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ jwt: 'a.b.c', note: 'pizzé' }));
      });
    });
    closers.push(server.close);

    const response = await transport.send({ method: 'POST', url: server.url, headers: { authorization: 'Bearer k' }, body: { order: { id: 7 } }, signal: AbortSignal.timeout(5000) });

    expect(response).toEqual({ status: 201, body: { jwt: 'a.b.c', note: 'pizzé' } });
    expect(seen.method).toBe('POST');
    expect(seen.headers).toMatchObject({ authorization: 'Bearer k', accept: 'application/json', 'content-type': 'application/json' });
    expect(JSON.parse(seen.body ?? '')).toEqual({ order: { id: 7 } });
  });

  test('when the answer is not JSON or is empty, then the status comes back with a null body', async () => {
    const server = await httpServer((request, response) => {
      if (request.url === '/api/order') response.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
      else response.writeHead(204).end();
    });
    closers.push(server.close);

    expect(await transport.send({ method: 'POST', url: server.url, body: {}, signal: AbortSignal.timeout(5000) })).toEqual({ status: 502, body: null });
    expect(await transport.send({ method: 'GET', url: new URL('/other', server.url), signal: AbortSignal.timeout(5000) })).toEqual({ status: 204, body: null });
  });

  test('when requests follow each other, then they reuse keep-alive connections', async () => {
    const server = await httpServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    closers.push(server.close);

    for (let i = 0; i < 10; i++) await transport.send({ method: 'POST', url: server.url, body: { i }, signal: AbortSignal.timeout(5000) });

    // undici hands a connection back one event-loop turn after its answer, so a request sent at once
    // after the previous one's answer takes a second connection; from then on the two take turns.
    expect(server.connections()).toBeLessThanOrEqual(2);
  });

  test('when the connection is refused, then the error says the request was never sent', async () => {
    const url = new URL(`http://127.0.0.1:${await closedPort()}/api/order`);

    const error = await failure(transport.send({ method: 'POST', url, body: {}, signal: AbortSignal.timeout(5000) }));

    expect(error).toMatchObject({ code: 'ECONNREFUSED', requestSent: false });
  });

  test('when the server reads the request and drops the connection, then the error says the request may have been sent', async () => {
    const server = await rawServer((socket, requestText) => void requestText.then(() => socket.destroy()));
    closers.push(server.close);

    const error = await failure(transport.send({ method: 'POST', url: server.url, body: { order: 1 }, signal: AbortSignal.timeout(5000) }));

    expect(error.requestSent).toBe(true);
  });

  test('when the deadline passes before the answer, then the request is aborted and counted as sent', async () => {
    const server = await rawServer(() => undefined);
    closers.push(server.close);

    const startedAt = performance.now();
    const error = await failure(transport.send({ method: 'POST', url: server.url, body: {}, signal: AbortSignal.timeout(200) }));

    expect(error).toMatchObject({ code: 'ABORT_ERR', requestSent: true });
    expect(performance.now() - startedAt).toBeLessThan(2000);
  });

  test('when the signal is already aborted, then nothing is sent', async () => {
    const server = await rawServer(() => undefined);
    closers.push(server.close);

    const error = await failure(transport.send({ method: 'POST', url: server.url, body: {}, signal: AbortSignal.abort() }));

    expect(error).toMatchObject({ code: 'ABORT_ERR', requestSent: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.connections()).toBe(0);
  });

  test('when the answer is larger than 1 MB, then it is refused without being kept', async () => {
    const server = await httpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(`{"jwt":"${'x'.repeat(2 * 1024 * 1024)}"}`);
    });
    closers.push(server.close);

    const error = await failure(transport.send({ method: 'POST', url: server.url, body: {}, signal: AbortSignal.timeout(5000) }));

    expect(error).toMatchObject({ code: 'ERESPONSETOOLARGE', requestSent: true });
  });
});

describe('the factory client retries only orders that never reached the factory', () => {
  test('when the factory drops the connection after reading an order, then the order is not sent again', async () => {
    let ordersRead = 0;
    const server = await rawServer((socket, requestText) =>
      void requestText.then(() => {
        ordersRead++;
        socket.destroy();
      }),
    );
    const logs = createLogCapture();
    const client = createFactoryClient({ url: server.url.origin, apiKey: 'vendor-key', timeoutMs: 2000, logger: logs.logger });

    const outcome = await client.createPizza(buildOrderRequest());
    await client.close();
    await server.close();

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'factory_error' });
    expect(ordersRead).toBe(1);
    expect(server.connections()).toBe(1);
    expect(logs.lines().find((line) => line.url === '/api/order')).toMatchObject({ attempts: 1, reason: 'factory_error' });
  });
});
