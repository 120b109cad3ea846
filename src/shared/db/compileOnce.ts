import { CompiledQuery, type Compilable, type QueryResult } from 'kysely';
import { sqliteNow, type Db, type SqliteNow } from './index';

type Arg = string | number | null;

export interface CompiledOnce<A extends Arg[], R> {
  /**
   * Runs the query with these arguments in place of the markers it was compiled with. On SQLite, while no
   * Kysely query or transaction holds the connection, straight on it (see sqliteNow in ./index).
   */
  execute(db: Db, ...args: A): Promise<QueryResult<R>>;
  /** Runs it synchronously on SQLite's connection (inside SqliteNow.transaction, say); `db` names its database. */
  runNow(sqlite: SqliteNow, db: Db, ...args: A): QueryResult<R>;
  /** The SQL this database runs (compiled on first use): for tests and EXPLAIN. */
  sql(db: Db): string;
}

/**
 * A query whose SQL is built and compiled once per database. Kysely builds an immutable operation tree
 * and compiles it on every call: ~35 µs for the session lookup (a three-table join), on every
 * authenticated request. Here the builder runs once with marker arguments, the markers are found among
 * the compiled parameters, and each call binds its own values to the same SQL. Only for queries whose
 * shape does not depend on the arguments: no `in` lists, no optional clauses. `arity` is the number of
 * arguments after `db` (default: the builder's declared parameters).
 */
export function compileOnce<A extends Arg[], R>(build: (db: Db, ...args: A) => Compilable<R>, arity = build.length - 1): CompiledOnce<A, R> {
  const compiled = new WeakMap<object, { sql: string; slots: ({ arg: number } | { value: unknown })[] }>();

  const compile = (db: Db) => {
    // A transaction is a new Kysely object for every call of db.transaction(), but it shares its database's
    // adapter (and compiler): keyed by the adapter, the statements of an order are compiled once, not per
    // order. Plugins could rewrite the SQL, so a handle with plugins keeps a cache of its own.
    const executor = db.getExecutor();
    const key: object = executor.plugins.length ? db : executor.adapter;
    let entry = compiled.get(key);
    if (entry) return entry;
    const markers = Array.from({ length: arity }, (_, i) => `\u0000compileOnce:${i}\u0000`);
    const query = build(db, ...(markers as A)).compile();
    const slots = query.parameters.map((value) => {
      const arg = markers.indexOf(value as string);
      return arg >= 0 ? { arg } : { value };
    });
    // Every argument must end up a bound parameter: one inlined into the SQL (an identifier, a literal)
    // or dropped (an optional clause) would make the cached SQL wrong for other values.
    const unbound = markers.findIndex((marker, i) => query.sql.includes(marker) || !slots.some((s) => 'arg' in s && s.arg === i));
    if (unbound >= 0) throw new Error(`compileOnce: argument ${unbound} is not a bound parameter of: ${query.sql}`);
    entry = { sql: query.sql, slots };
    compiled.set(key, entry);
    return entry;
  };

  const bind = (slots: ({ arg: number } | { value: unknown })[], args: A) => {
    const parameters = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      parameters[i] = 'arg' in slot ? args[slot.arg] : slot.value;
    }
    return parameters;
  };

  return {
    execute(db, ...args) {
      const { sql, slots } = compile(db);
      const sqlite = sqliteNow(db);
      if (sqlite) {
        try {
          return Promise.resolve(sqlite.run<R>(sql, bind(slots, args)));
        } catch (error) {
          return Promise.reject(error as Error);
        }
      }
      return db.executeQuery<R>(CompiledQuery.raw(sql, bind(slots, args)));
    },
    runNow(sqlite, db, ...args) {
      const { sql, slots } = compile(db);
      return sqlite.run<R>(sql, bind(slots, args));
    },
    sql: (db) => compile(db).sql,
  };
}
