import { Agent, type Dispatcher } from 'undici';

const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface JsonResponse {
  status: number;
  /** Parsed JSON, or null when the body was empty or not JSON. */
  body: unknown;
}

/**
 * A request that failed without an HTTP response. `requestSent` is false only when the request was never
 * handed to a connected socket (connection refused, unknown host, aborted while waiting for a connection),
 * i.e. not one byte of it can have reached the server.
 */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly requestSent: boolean,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface JsonRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  body?: unknown;
  signal: AbortSignal;
}

export interface JsonTransport {
  send(request: JsonRequest): Promise<JsonResponse>;
  close(): void;
}

/**
 * JSON over undici's dispatcher, with up to 64 keep-alive connections per origin so that factory calls reuse
 * their connections. undici's HTTP/1.1 client spends less CPU per call than node:http (finding AA in
 * docs/performance.md) and does not share node:http's message classes with the server. Idle connections are
 * dropped before a typical server's 5 s keep-alive timeout, which keeps the "reused a connection the server
 * just closed" race rare; the server's own Keep-Alive hint can only shorten that.
 */
export function createJsonTransport(): JsonTransport {
  const agent = new Agent({ keepAliveTimeout: 4000, keepAliveMaxTimeout: 4000, connections: 64, pipelining: 1 });

  function send({ method, url, headers = {}, body, signal }: JsonRequest): Promise<JsonResponse> {
    const requestHeaders: Record<string, string> = { accept: 'application/json', ...headers };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) requestHeaders['content-type'] = 'application/json';

    return new Promise<JsonResponse>((resolve, reject) => {
      if (signal.aborted) {
        reject(new TransportError('The operation was aborted', 'ABORT_ERR', false));
        return;
      }
      // undici calls onRequestStart on a connected socket, just before it writes the request: until then,
      // not one byte can have reached the server.
      let started = false;
      let settled = false;
      let controller: Dispatcher.DispatchController | undefined;
      let status = 0;
      let size = 0;
      const chunks: Buffer[] = [];

      const settle = (error: TransportError | null) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve({ status, body: parseJson(Buffer.concat(chunks, size).toString('utf8')) });
      };
      const onAbort = () => {
        settle(new TransportError('The operation was aborted', 'ABORT_ERR', started));
        controller?.abort(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });

      agent.dispatch(
        { origin: url.origin, path: url.pathname + url.search, method, headers: requestHeaders, body: payload },
        {
          onRequestStart(ctrl) {
            controller = ctrl;
            if (settled) ctrl.abort(signal.reason);
            else started = true;
          },
          onResponseStart(_ctrl, statusCode) {
            status = statusCode;
          },
          onResponseData(ctrl, chunk) {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              settle(new TransportError('response too large', 'ERESPONSETOOLARGE', true));
              ctrl.abort(new Error('response too large'));
              return;
            }
            chunks.push(chunk);
          },
          onResponseEnd() {
            settle(null);
          },
          onResponseError(_ctrl, error) {
            settle(new TransportError(error.message, (error as NodeJS.ErrnoException).code, started));
          },
        },
      );
    });
  }

  return {
    send,
    close() {
      void agent.destroy();
    },
  };
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
