import { request, startTestService } from './support';

// METRICS_PORT: /metrics on a listener of its own, through the real startService composition.

describe('a separate metrics listener', () => {
  test('when METRICS_PORT and METRICS_TOKEN are both set, then /metrics is 404 on the service port, needs the token on its own port, and the listener closes with the service', async () => {
    const token = `metrics-listener-token-${process.pid}`;
    const service = await startTestService({ DATABASE_URL: 'sqlite::memory:', METRICS_PORT: '0', METRICS_TOKEN: token });
    let closed = false;
    try {
      expect(service.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(service.metricsUrl).not.toBe(service.url);
      const onServicePort = await request(service.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
      expect([onServicePort.status, onServicePort.body]).toEqual([404, { message: 'unknown endpoint' }]);

      const anonymous = await request(service.metricsUrl!, 'GET', '/metrics');
      expect([anonymous.status, anonymous.body]).toEqual([401, { message: 'unauthorized' }]);
      const scraped = await request(service.metricsUrl!, 'GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
      expect(scraped.status).toBe(200);
      expect(scraped.text).toMatch(/^# TYPE http_requests_total counter$/m);
      // Nothing else of the API is reachable through the metrics port.
      for (const path of ['/api/order/menu', '/healthz', '/']) {
        const other = await request(service.metricsUrl!, 'GET', path);
        expect([other.status, other.body]).toEqual([404, { message: 'unknown endpoint' }]);
      }

      await service.shutdown('test over');
      closed = true;
      const after = await request(service.metricsUrl!, 'GET', '/metrics', { timeoutMs: 2000 });
      expect(after.status).toBe(0);
      expect(after.error).toBe('ECONNREFUSED');
    } finally {
      if (!closed) await service.shutdown('test over');
    }
  });

  test('when METRICS_PORT is unset, then /metrics stays on the service port, as in development, tests, the bench and the game day', async () => {
    const service = await startTestService({ DATABASE_URL: 'sqlite::memory:' });
    try {
      expect(service.metricsUrl).toBeUndefined();
      expect((await request(service.url, 'GET', '/metrics')).status).toBe(200);
    } finally {
      await service.shutdown('test over');
    }
  });
});
