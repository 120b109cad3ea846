import http, { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export interface HttpServerBounds {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/**
 * A node:http server whose slow clients are bounded: headers must arrive within headersTimeoutMs and the
 * whole request within requestTimeoutMs, or the connection gets a JSON 408 and is closed. (Node's defaults,
 * 60 s and 300 s checked every 30 s, let a few slow-header or slow-body clients hold sockets for minutes.)
 */
export function createHttpServer(handler: http.RequestListener, bounds: HttpServerBounds): http.Server {
  const server = http.createServer(
    {
      headersTimeout: bounds.headersTimeoutMs,
      requestTimeout: bounds.requestTimeoutMs,
      // Node looks for expired requests on this period (30 s by default), which would stretch a bound of a
      // few seconds to half a minute.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(bounds.headersTimeoutMs / 4))),
    },
    handler,
  );
  server.keepAliveTimeout = bounds.keepAliveTimeoutMs;
  server.on('clientError', answerClientError);
  return server;
}

const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'request not received in time' },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'request headers too large' },
};

/**
 * What Node itself writes for a request it cannot parse or that timed out is a bare status line with an
 * empty body; every answer of this service is JSON (the frontend parses each one), so these are too.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const inProgress = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, message } = CLIENT_ERRORS[error.code ?? ''] ?? { status: 400, message: 'malformed request' };
  const body = JSON.stringify({ message });
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`, 'Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
  // Closed once written: a client still trickling bytes must not keep the socket open.
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}
