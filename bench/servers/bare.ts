/**
 * The two yardsticks of the benchmark, each in its own process (BARE_MODE):
 * - `express`: a bare Express 5 app answering `{ok: true}`: the most any Express route can do here;
 * - `query`: a bare Express route doing one pooled query, the menu select (a mysql2 pool of the
 *   service's size, or a prepared better-sqlite3 statement): the ceiling of a database-backed read.
 * No middleware, no logging, no validation: what the service adds is measured against these.
 */
import SqliteDatabase from 'better-sqlite3';
import express from 'express';
import { createPool } from 'mysql2';

const MENU_SELECT = 'select id, title, image, price_units, description from menu_items order by id';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);

app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.get('/', (_req, res) => {
  res.json({ ok: true });
});

const databaseUrl = process.env.DATABASE_URL;
let close: () => void = () => undefined;
if (process.env.BARE_MODE === 'query' && databaseUrl?.startsWith('mysql://')) {
  const url = new URL(databaseUrl);
  const pool = createPool({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
    connectionLimit: Number(process.env.DB_POOL_SIZE ?? 10),
    maxIdle: Number(process.env.DB_POOL_SIZE ?? 10),
    decimalNumbers: true,
    supportBigNumbers: true,
  });
  app.get('/query', (_req, res, next) => {
    pool.query(MENU_SELECT, (error, rows) => (error ? next(error) : res.json(rows)));
  });
  close = () => pool.end();
} else if (process.env.BARE_MODE === 'query' && databaseUrl?.startsWith('sqlite:')) {
  const sqlite = new SqliteDatabase(databaseUrl.slice('sqlite:'.length), { readonly: true });
  sqlite.pragma('busy_timeout = 5000');
  const select = sqlite.prepare(MENU_SELECT);
  app.get('/query', (_req, res) => {
    res.json(select.all());
  });
  close = () => sqlite.close();
}

const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.once('SIGTERM', () => {
  server.close(() => {
    close();
    process.exit(0);
  });
  server.closeAllConnections();
});
