import { sql } from 'kysely';
import { compileOnce } from '../../src/shared/db/compileOnce';
import type { Db } from '../../src/shared/db';
import { buildTestApp, buildUser, type TestApp } from '../helpers/app';

describe('compileOnce (queries compiled once, bound per call)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  const usersNamed = compileOnce((db: Db, name: string, minId: number) =>
    db.selectFrom('users').select(['id', 'name']).where('name', '=', name).where('id', '>=', minId).where('email', 'not like', 'never-%').orderBy('id'),
  );

  test('when called with different arguments, then each call returns what a freshly built query returns', async () => {
    const a = await buildUser(t, { name: 'compile once a' });
    const b = await buildUser(t, { name: 'compile once b' });

    for (const [name, minId] of [['compile once a', 0], ['compile once b', 0], ['compile once a', a.id + 1], ['nobody', 0]] as const) {
      const fresh = await t.ctx.db.selectFrom('users').select(['id', 'name']).where('name', '=', name).where('id', '>=', minId).where('email', 'not like', 'never-%').orderBy('id').execute();
      expect((await usersNamed.execute(t.ctx.db, name, minId)).rows).toEqual(fresh);
    }
    expect((await usersNamed.execute(t.ctx.db, 'compile once b', 0)).rows).toEqual([{ id: b.id, name: 'compile once b' }]);
  });

  test('when the query runs inside transactions of the database, then it is built and compiled once for all of them', async () => {
    let builds = 0;
    const userById = compileOnce((db: Db, id: number) => {
      builds += 1;
      return db.selectFrom('users').select(['id', 'name']).where('id', '=', id);
    });
    const user = await buildUser(t, { name: 'compile once in a transaction' });

    await userById.execute(t.ctx.db, user.id);
    for (let i = 0; i < 3; i++) {
      const { rows } = await t.ctx.db.transaction().execute((trx) => userById.execute(trx, user.id));
      expect(rows).toEqual([{ id: user.id, name: 'compile once in a transaction' }]);
    }

    expect(builds).toBe(1);
  });

  test('when a value is hostile SQL, then it is bound as data like any other', async () => {
    const before = await t.ctx.db.selectFrom('users').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();

    const { rows } = await usersNamed.execute(t.ctx.db, "x' OR '1'='1", 0);

    expect(rows).toEqual([]);
    expect(await t.ctx.db.selectFrom('users').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).toEqual(before);
  });

  test('when an argument would be inlined into the SQL or dropped, then the query is refused instead of cached wrong', () => {
    const inlined = compileOnce((db: Db, column: string) => db.selectFrom('users').select(sql.ref(column).as('c')));
    const dropped = compileOnce((db: Db, name: string) => db.selectFrom('users').select('id').$if(name === 'only this', (q) => q.where('name', '=', name)));

    expect(() => inlined.sql(t.ctx.db)).toThrow(/argument 0 is not a bound parameter/);
    expect(() => dropped.sql(t.ctx.db)).toThrow(/argument 0 is not a bound parameter/);
  });

  test('when the same statement text runs many times among hundreds of others, then results stay right (statement cache)', async () => {
    for (let i = 0; i < 600; i++) {
      const row = await sql<{ v: number }>`select ${i} + ${sql.lit(i)} as v`.execute(t.ctx.db);
      expect(Number(row.rows[0].v)).toBe(2 * i);
    }
    const user = await buildUser(t, { name: 'after many statements' });
    expect((await usersNamed.execute(t.ctx.db, 'after many statements', 0)).rows).toEqual([{ id: user.id, name: 'after many statements' }]);
  });
});
