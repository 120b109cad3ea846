// A Loki stand-in for end-to-end tests (Debian has no Loki server).
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LokiPush {
  streams: { stream: Record<string, string>; values: [string, string][] }[];
}

/**
 * A Loki-like receiver: validates the push format and the label set, can fail the first N pushes,
 * and stores accepted streams like Loki would (no storage for refused pushes).
 */
export async function startLokiReceiver(options: { failFirst?: number } = {}) {
  const accepted: LokiPush[] = [];
  const formatErrors: string[] = [];
  const authorizations: (string | undefined)[] = [];
  let pushes = 0;
  const app = express();
  app.post('/loki/api/v1/push', express.json({ limit: '50mb' }), (req, res) => {
    pushes++;
    authorizations.push(req.headers.authorization);
    if (pushes <= (options.failFirst ?? 0)) {
      res.status(500).send('ingester unavailable');
      return;
    }
    const problem = formatProblem(req.headers['content-type'], req.body);
    if (problem) {
      formatErrors.push(problem);
      res.status(400).send(problem);
      return;
    }
    accepted.push(req.body as LokiPush);
    res.status(204).end();
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/loki/api/v1/push`,
    accepted,
    formatErrors,
    authorizations,
    pushes: () => pushes,
    lines: () => accepted.flatMap((push) => push.streams.flatMap((s) => s.values.map(([, line]) => line))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function formatProblem(contentType: string | undefined, body: unknown): string | undefined {
  if (!contentType?.startsWith('application/json')) return `content-type ${contentType}`;
  const push = body as LokiPush;
  if (!Array.isArray(push?.streams) || push.streams.length === 0) return 'no streams';
  for (const { stream, values } of push.streams) {
    const keys = Object.keys(stream ?? {}).sort().join(',');
    if (keys !== 'env,level,service,type') return `labels ${keys}`;
    if (!Array.isArray(values) || values.length === 0) return 'no values';
    for (const value of values) {
      if (!Array.isArray(value) || value.length !== 2) return 'value is not a pair';
      if (typeof value[0] !== 'string' || !/^\d{19}$/.test(value[0])) return `timestamp ${String(value[0])}`;
      if (typeof value[1] !== 'string') return 'line is not a string';
    }
  }
  return undefined;
}
