import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, MysqlDialect, SqliteDialect, sql, type Dialect, type QueryResult } from 'kysely';
import { createPool, type Pool } from 'mysql2';
import type { DatabaseConfig } from '../../config';
import { tracingEnabled } from '../tracing';
import { tracedDialect } from '../tracing/sqlSpans';
import { migrationProvider } from './migrations';
import type { Database } from './schema';

export type Db = Kysely<Database>;

/** What the database server can do beyond the SQL both dialects share. */
export interface DatabaseFeatures {
  /** `INSERT … RETURNING`: SQLite 3.35+, MariaDB 10.5+; not MySQL. */
  insertReturning: boolean;
}

export interface DatabaseHandle {
  db: Db;
  kind: DatabaseConfig['kind'];
  /** Known once migrate() has run (SQLite: at once); until then, only what every supported server has. */
  features: DatabaseFeatures;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  /** Connections in use and idle (MySQL pool); SQLite has one connection. */
  poolStats(): { inUse: number; idle: number };
  /** Brings the schema up to date and learns the server's features. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * SQLite's one connection, used synchronously. better-sqlite3 runs every statement synchronously anyway; going
 * through Kysely adds its executor, connection mutex and several promise hops per statement (~10 µs each, about
 * a third of the database CPU of an order). A statement or transaction run here, in one synchronous call, cannot
 * interleave with anything else the process does; it is only offered while no Kysely query or transaction holds
 * the connection (one would otherwise run inside that transaction), and only without tracing (statement spans
 * are made by the traced Kysely driver).
 */
export interface SqliteNow {
  /** One statement, with the result Kysely's SQLite driver would give. Throws what better-sqlite3 throws. */
  run<R>(sql: string, parameters: readonly unknown[]): QueryResult<R>;
  /** `work` between BEGIN and COMMIT; rolled back and rethrown when it throws. */
  transaction<T>(work: () => T): T;
}

/**
 * Writes to SQLite committed together (group commit). A commit writes every page the transaction changed to
 * the WAL (two writes per page, plus file locks): ~40 system calls, the largest part of an order's database
 * CPU. The writes asked for within one turn of the event loop (requests and factory answers that arrived
 * together) run in one transaction, each in a savepoint of its own, so a write that fails is undone alone and
 * the others commit; the orders of a turn share their pages (the last leaf of each table and index), so the
 * commit costs about what one order's did. Each promise settles after the COMMIT: a write is reported done
 * only once it is durable, as before. A failed COMMIT fails every write of the batch.
 */
export interface SqliteWriteBatch {
  /** Runs `work` (synchronous statements through SqliteNow) in the next group commit; resolves after its COMMIT. */
  write<T>(work: (sqlite: SqliteNow) => T): Promise<T>;
}

interface DirectSqlite { held(): boolean; now: SqliteNow; batch: SqliteWriteBatch }
const directSqlite = new WeakMap<Db, DirectSqlite>();

/** The SQLite connection for a synchronous call now, or undefined (MySQL, tracing on, or the connection is held by Kysely). */
export function sqliteNow(db: Db): SqliteNow | undefined {
  const entry = directSqlite.get(db);
  if (entry === undefined || entry.held() || tracingEnabled()) return undefined;
  return entry.now;
}

/** Group commit on SQLite (see SqliteWriteBatch), or undefined (MySQL, or tracing on: Kysely's traced driver). */
export function sqliteWriteBatch(db: Db): SqliteWriteBatch | undefined {
  const entry = directSqlite.get(db);
  if (entry === undefined || tracingEnabled()) return undefined;
  return entry.batch;
}

interface PoolInternals {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
}

export function openDatabase(config: DatabaseConfig, options: { poolSize?: number; timeoutMs?: number } = {}): DatabaseHandle {
  let db: Db;
  let poolStats: DatabaseHandle['poolStats'];
  const features: DatabaseFeatures = { insertReturning: false };
  if (config.kind === 'sqlite') {
    if (config.file !== ':memory:') mkdirSync(dirname(config.file), { recursive: true });
    const sqlite = new SqliteDatabase(config.file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // Kysely's SQLite driver prepares every statement on every call; the service runs a few dozen
    // distinct statements, so each is compiled by SQLite once and reused (better-sqlite3 statements
    // are reusable, and the driver runs one query at a time).
    features.insertReturning = versionAtLeast(String(sqlite.prepare('select sqlite_version()').pluck().get()), [3, 35]);
    const statements = new Map<string, SqliteDatabase.Statement>();
    const database = {
      prepare(text: string) {
        let statement = statements.get(text);
        if (!statement) {
          if (statements.size >= 500) statements.clear();
          statement = sqlite.prepare(text);
          statements.set(text, statement);
        }
        return statement;
      },
      close: () => sqlite.close(),
    };
    // Whether Kysely holds the connection (a query between its awaits, or an open transaction): counted on the
    // driver instance, as the tracing wrapper patches it, because Kysely's driver keeps its mutex private.
    let held = 0;
    const dialect = new SqliteDialect({ database });
    const createDriver = dialect.createDriver.bind(dialect);
    dialect.createDriver = () => {
      const driver = createDriver();
      const acquire = driver.acquireConnection.bind(driver);
      const release = driver.releaseConnection.bind(driver);
      driver.acquireConnection = async () => {
        const connection = await acquire();
        held += 1;
        return connection;
      };
      driver.releaseConnection = async (connection) => {
        held -= 1;
        await release(connection);
      };
      return driver;
    };
    db = new Kysely<Database>({ dialect: withTracing(dialect, 'sqlite') });
    const now = directConnection(sqlite, database.prepare);
    const isHeld = () => held > 0;
    directSqlite.set(db, { held: isHeld, now, batch: writeBatch(sqlite, now, isHeld) });
    poolStats = () => ({ inUse: 0, idle: 1 });
  } else {
    const pool: Pool = createPool({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      connectionLimit: options.poolSize ?? 10,
      maxIdle: options.poolSize ?? 10,
      connectTimeout: options.timeoutMs ?? 5000,
      waitForConnections: true,
      // Bounded wait: when every connection is busy or the server is gone, fail instead of queueing forever.
      queueLimit: 1000,
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: true,
      enableKeepAlive: true,
      timezone: 'Z',
    });
    db = new Kysely<Database>({ dialect: withTracing(new MysqlDialect({ pool }), 'mysql') });
    poolStats = () => {
      const internals = pool as unknown as PoolInternals;
      const all = internals._allConnections?.length ?? 0;
      const idle = internals._freeConnections?.length ?? 0;
      return { inUse: all - idle, idle };
    };
  }

  return {
    db,
    kind: config.kind,
    features,
    poolStats,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async migrate() {
      const migrator = new Migrator({ db, provider: migrationProvider });
      const { error, results } = await migrator.migrateToLatest();
      const failed = results?.find((r) => r.status === 'Error');
      if (error || failed) {
        throw new Error(`database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${error instanceof Error ? error.message : String(error ?? '')}`);
      }
      if (config.kind === 'mysql') {
        const { rows } = await sql<{ version: string }>`select version() as version`.execute(db);
        features.insertReturning = mariadbAtLeast(rows[0]?.version ?? '', [10, 5]);
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

function directConnection(sqlite: SqliteDatabase.Database, prepare: (text: string) => SqliteDatabase.Statement): SqliteNow {
  const run = <R>(text: string, parameters: readonly unknown[]): QueryResult<R> => {
    const statement = prepare(text);
    if (statement.reader) return { rows: statement.all(parameters) as R[] };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  };
  return {
    run,
    transaction(work) {
      run('begin', []);
      try {
        const result = work();
        run('commit', []);
        return result;
      } catch (error) {
        // A failed COMMIT (SQLITE_BUSY) can leave the transaction open; a failed statement always does.
        if (sqlite.inTransaction) run('rollback', []);
        throw error;
      }
    },
  };
}

interface QueuedWrite {
  work: (sqlite: SqliteNow) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

function writeBatch(sqlite: SqliteDatabase.Database, now: SqliteNow, held: () => boolean): SqliteWriteBatch {
  let queue: QueuedWrite[] = [];
  let scheduled = false;

  const flush = () => {
    // A Kysely transaction holds the connection: the batch would run inside it. Its turn comes next.
    if (held()) {
      setImmediate(flush);
      return;
    }
    scheduled = false;
    const batch = queue;
    queue = [];
    try {
      now.transaction(() => {
        if (batch.length === 1) {
          batch[0].outcome = { ok: true, value: batch[0].work(now) };
          return;
        }
        for (const write of batch) {
          now.run('savepoint batched_write', []);
          try {
            write.outcome = { ok: true, value: write.work(now) };
            now.run('release batched_write', []);
          } catch (error) {
            // Some errors (disk full, I/O) end the whole transaction: then the batch fails as a whole.
            if (!sqlite.inTransaction) throw error;
            now.run('rollback to batched_write', []);
            now.run('release batched_write', []);
            write.outcome = { ok: false, error };
          }
        }
      });
    } catch (error) {
      for (const write of batch) write.reject(error);
      return;
    }
    for (const write of batch) {
      const outcome = write.outcome!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    }
  };

  return {
    write<T>(work: (sqlite: SqliteNow) => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}

/** Statement spans only when the tracing SDK runs: an untraced process keeps Kysely's own driver as it is. */
function withTracing(dialect: Dialect, system: 'sqlite' | 'mysql'): Dialect {
  return tracingEnabled() ? tracedDialect(dialect, system) : dialect;
}

function versionAtLeast(version: string, minimum: [number, number]): boolean {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

/** `version()` of a MariaDB server reads like `10.11.19-MariaDB-0+deb12u1`; MySQL's has no `MariaDB`. */
export function mariadbAtLeast(version: string, minimum: [number, number]): boolean {
  return /mariadb/i.test(version) && versionAtLeast(version, minimum);
}

/** Kysely reports insert ids as bigint on both dialects. */
export function insertedId(result: { insertId?: bigint | number }): number {
  if (result.insertId === undefined) throw new Error('insert returned no id');
  return Number(result.insertId);
}

export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; errno?: number };
  return e?.code === 'ER_DUP_ENTRY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Errors that mean the database itself is unreachable, as opposed to a bad query. */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; fatal?: boolean; message?: string };
  const codes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'EPIPE', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'POOL_CLOSED', 'EHOSTUNREACH', 'ER_SERVER_SHUTDOWN'];
  return (e?.code !== undefined && codes.includes(e.code)) || e?.fatal === true || /Queue limit reached|connect ETIMEDOUT|Pool is closed|database connection is not open|driver has already been destroyed/i.test(e?.message ?? '');
}
