import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult } from 'kysely';
import { tracer } from './index';

/**
 * A Kysely dialect whose statements become spans: one per statement (transaction control included), with
 * the compiled SQL, whose values are always bound parameters (`?`), never the values themselves. Only
 * inside a recorded span (a traced request): background jobs and metric collection make no root spans.
 * Wrapping the driver covers both databases (better-sqlite3 has no instrumentation of its own) and every
 * query path (query builders, compileOnce, raw sql).
 */
export function tracedDialect(dialect: Dialect, system: 'sqlite' | 'mysql'): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => tracedDriver(dialect.createDriver(), system),
  };
}

function tracedDriver(driver: Driver, system: string): Driver {
  const traced = new WeakSet<DatabaseConnection>();
  const acquire = driver.acquireConnection.bind(driver);
  // Patched on the instance: Kysely's drivers keep private state that a wrapper object could not reach.
  driver.acquireConnection = async () => {
    const connection = await acquire();
    if (!traced.has(connection)) {
      const execute = connection.executeQuery.bind(connection);
      connection.executeQuery = <R>(query: CompiledQuery) => traceStatement(system, query.sql, () => execute<R>(query));
      traced.add(connection);
    }
    return connection;
  };
  return driver;
}

function traceStatement<R>(system: string, statement: string, run: () => Promise<QueryResult<R>>): Promise<QueryResult<R>> {
  if (!trace.getSpan(context.active())?.isRecording()) return run();
  const operation = /^\s*(\w+)/.exec(statement)?.[1]?.toUpperCase() ?? 'SQL';
  const span = tracer.startSpan(`${operation} ${system}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system.name': system, 'db.operation.name': operation, 'db.query.text': statement },
  });
  return run().then(
    (result) => {
      span.setAttribute('db.response.returned_rows', result.rows.length);
      span.end();
      return result;
    },
    (error: unknown) => {
      // The error's code only: driver messages can quote values ("Duplicate entry 'a@b.c' for key ...").
      const code = (error as { code?: unknown } | null)?.code;
      span.setAttribute('error.type', typeof code === 'string' ? code : error instanceof Error ? error.name : 'error');
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw error;
    },
  );
}
