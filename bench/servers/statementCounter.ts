/**
 * Loaded into a benchmarked service with `node --require` (never by the service itself): counts the SQL
 * statements the process sends, at the drivers, and answers the counts on BENCH_STATEMENTS_PORT (loopback).
 * mysql2: every `query`/`execute` of a connection is one round trip to the server. better-sqlite3: every
 * statement run (in process, no round trip); transaction control is counted apart (`control`), the savepoints
 * of SQLite's group commit included, and COMMITs as `commits`.
 */
import { createServer } from 'node:http';

const counts = { statements: 0, control: 0, commits: 0 };
const CONTROL = /^\s*(begin|start transaction|commit|rollback|savepoint|release)\b/i;

function count(sql: unknown): void {
  const text = typeof sql === 'string' ? sql : typeof (sql as { sql?: unknown })?.sql === 'string' ? (sql as { sql: string }).sql : '';
  if (CONTROL.test(text)) {
    counts.control += 1;
    if (/^\s*commit\b/i.test(text)) counts.commits += 1;
  } else counts.statements += 1;
}

function patch(prototype: Record<string, unknown>, methods: string[], sqlOf: (self: unknown, args: unknown[]) => unknown): void {
  for (const method of methods) {
    let owner: Record<string, unknown> | null = prototype;
    while (owner && !Object.prototype.hasOwnProperty.call(owner, method)) owner = Object.getPrototypeOf(owner) as Record<string, unknown> | null;
    const original = owner?.[method];
    if (!owner || typeof original !== 'function') continue;
    owner[method] = function (this: unknown, ...args: unknown[]) {
      count(sqlOf(this, args));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
}

try {
  const mysql = require('mysql2') as { Connection: { prototype: Record<string, unknown> } };
  patch(mysql.Connection.prototype, ['query', 'execute'], (_self, args) => args[0]);
} catch {
  // no mysql2 here
}
try {
  const Sqlite = require('better-sqlite3') as new (file: string) => { prepare(sql: string): object; close(): void };
  const probe = new Sqlite(':memory:');
  const statementPrototype = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown>;
  probe.close();
  patch(statementPrototype, ['run', 'all', 'get', 'iterate'], (self) => (self as { source?: string }).source);
} catch {
  // no better-sqlite3 here
}

const port = Number(process.env.BENCH_STATEMENTS_PORT);
if (port > 0) {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(counts));
  });
  server.listen(port, '127.0.0.1');
  server.unref();
}
