// The pager, as far as the game day can see it: a webhook receiver on loopback that records every
// notification Alertmanager sends (one POST per notification, Alertmanager's webhook payload v4).
import http from 'node:http';
import type net from 'node:net';

export interface NotifiedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

export interface Notification {
  /** When it arrived (ms since epoch). */
  at: number;
  /** The receiver, from the payload (the URL path says the same). */
  receiver: string;
  path: string;
  status: 'firing' | 'resolved';
  groupKey: string;
  groupLabels: Record<string, string>;
  alerts: NotifiedAlert[];
  /** The body as sent, to search for secrets that must never be in a notification. */
  raw: string;
}

export interface WebhookReceiver {
  /** Base URL; a receiver's URL is `${url}/<receiver name>`. */
  url: string;
  notifications: Notification[];
  /** Requests that were not a webhook notification (wrong method, bad JSON). */
  rejected: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export function parseNotification(raw: string, path: string, at: number): Notification {
  const body = JSON.parse(raw) as Partial<Omit<Notification, 'at' | 'path' | 'raw'>>;
  if (typeof body.receiver !== 'string' || (body.status !== 'firing' && body.status !== 'resolved') || !Array.isArray(body.alerts)) {
    throw new Error('not an Alertmanager webhook payload (receiver, status, alerts)');
  }
  return {
    at,
    receiver: body.receiver,
    path,
    status: body.status,
    groupKey: String(body.groupKey ?? ''),
    groupLabels: body.groupLabels ?? {},
    alerts: body.alerts.map((alert) => ({
      status: alert.status,
      labels: alert.labels ?? {},
      annotations: alert.annotations ?? {},
      startsAt: alert.startsAt,
      endsAt: alert.endsAt,
    })),
    raw,
  };
}

export function startWebhookReceiver(onNotification: (notification: Notification) => void = () => undefined): Promise<WebhookReceiver> {
  const notifications: Notification[] = [];
  const state = { rejected: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const answer = (status: number, body: object) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || size > MAX_BODY_BYTES) {
        state.rejected++;
        return answer(req.method !== 'POST' ? 405 : 413, { message: 'POST an Alertmanager webhook payload' });
      }
      try {
        const notification = parseNotification(Buffer.concat(chunks).toString('utf8'), req.url ?? '/', Date.now());
        notifications.push(notification);
        onNotification(notification);
        answer(200, { message: 'recorded' });
      } catch (error) {
        state.rejected++;
        answer(400, { message: (error as Error).message });
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        notifications,
        get rejected() {
          return state.rejected;
        },
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
