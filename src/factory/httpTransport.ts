import http from 'node:http';
import https from 'node:https';

const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface JsonResponse {
  status: number;
  /** Parsed JSON, or null when the body was empty or not JSON. */
  body: unknown;
}

/**
 * A request that failed without an HTTP response. `requestSent` is false only when no connection was ever
 * established, i.e. not one byte of the request can have reached the server.
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

/** JSON over node:http(s) with keep-alive agents, so factory calls reuse their connections. */
export function createJsonTransport(): JsonTransport {
  // Idle sockets are dropped before a typical server's 5 s keep-alive timeout (Node also honours the
  // server's Keep-Alive hint), which keeps the "reused a socket the server just closed" race rare.
  const agentOptions = { keepAlive: true, timeout: 4000, maxSockets: 64, maxFreeSockets: 64, scheduling: 'lifo' as const };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);

  function send({ method, url, headers = {}, body, signal }: JsonRequest): Promise<JsonResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const isHttps = url.protocol === 'https:';
    const requestHeaders: Record<string, string | number> = { accept: 'application/json', ...headers };
    if (payload) {
      requestHeaders['content-type'] = 'application/json';
      requestHeaders['content-length'] = payload.length;
    }

    return new Promise<JsonResponse>((resolve, reject) => {
      let connected = false;
      const request = (isHttps ? https : http).request(url, {
        method,
        headers: requestHeaders,
        agent: isHttps ? httpsAgent : httpAgent,
        signal,
      });

      request.on('socket', (socket) => {
        if (request.reusedSocket || !socket.connecting) connected = true;
        else socket.once('connect', () => (connected = true));
      });

      request.on('error', (error: NodeJS.ErrnoException) => {
        reject(new TransportError(error.message, error.code, connected));
      });

      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            response.destroy();
            reject(new TransportError('response too large', 'ERESPONSETOOLARGE', true));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', (error: NodeJS.ErrnoException) => reject(new TransportError(error.message, error.code, true)));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body: parseJson(Buffer.concat(chunks).toString('utf8')) });
        });
      });

      request.end(payload);
    });
  }

  return {
    send,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
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
