/**
 * The OTLP/HTTP collector of the tracing scenarios: accepts every trace export on loopback and answers
 * 200 at once, as a healthy collector does, so the service's cost of tracing is measured and not the
 * collector's. GET /stats tells how much arrived (exports and bytes), to show the spans did flow.
 */
import http from 'node:http';

const stats = { exports: 0, bytes: 0 };
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  req.on('data', (chunk: Buffer) => (stats.bytes += chunk.length));
  req.on('end', () => {
    if (req.url === '/v1/traces') stats.exports += 1;
    res.writeHead(req.url === '/v1/traces' ? 200 : 404, { 'content-type': 'application/x-protobuf' }).end();
  });
});
server.listen(Number(process.env.PORT ?? 4318), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
