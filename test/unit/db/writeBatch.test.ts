import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, sqliteNow, sqliteWriteBatch, type DatabaseHandle } from '../../../src/shared/db';

/** SQLite's group commit (sqliteWriteBatch) and its synchronous connection (sqliteNow), on a database file of its own. */
describe('SQLite writes committed together', () => {
  let dir: string;
  let database: DatabaseHandle;
  const insert = (email: string) => (sqlite: NonNullable<ReturnType<typeof sqliteNow>>) =>
    sqlite.run('insert into users (name, email, password_hash, created_at) values (?, ?, ?, ?)', ['n', email, 'h', 1]).insertId;
  const emails = async () => (await database.db.selectFrom('users').select('email').orderBy('id').execute()).map((r) => r.email);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jwt-pizza-batch-'));
    database = openDatabase({ kind: 'sqlite', file: join(dir, 'batch.db') });
    await database.migrate();
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when writes are asked for in one turn, then they run after that turn, in order, and each promise answers its own', async () => {
    const batch = sqliteWriteBatch(database.db)!;
    let committed = 0;
    const writes = ['a@x', 'b@x', 'c@x'].map((email) => batch.write(insert(email)).then((id) => ((committed += 1), id)));
    // Nothing ran yet: the batch runs after this turn.
    expect(await emails()).toEqual([]);
    const ids = await Promise.all(writes);
    expect(committed).toBe(3);
    expect(ids.map(Number)).toEqual([1, 2, 3]);
    expect(await emails()).toEqual(['a@x', 'b@x', 'c@x']);
  });

  test('when one write of a batch fails, then it alone is undone and rejected, and the others commit', async () => {
    const batch = sqliteWriteBatch(database.db)!;
    const results = await Promise.allSettled([batch.write(insert('a@x')), batch.write(insert('a@x')), batch.write(insert('b@x'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(await emails()).toEqual(['a@x', 'b@x']);
  });

  test('when a write throws after its statements ran, then its statements are undone too', async () => {
    const batch = sqliteWriteBatch(database.db)!;
    const failing = batch.write((sqlite) => {
      insert('half@x')(sqlite);
      throw new Error('changed my mind');
    });
    const fine = batch.write(insert('whole@x'));
    await expect(failing).rejects.toThrow('changed my mind');
    await fine;
    expect(await emails()).toEqual(['whole@x']);
  });

  test('when a Kysely transaction holds the connection, then the batch waits for it and does not run inside it', async () => {
    const batch = sqliteWriteBatch(database.db)!;
    let written: Promise<unknown> | undefined;
    await expect(
      database.db.transaction().execute(async (trx) => {
        await sql`insert into users (name, email, password_hash, created_at) values ('n', 'in-trx@x', 'h', 1)`.execute(trx);
        expect(sqliteNow(database.db)).toBeUndefined();
        written = batch.write(insert('batched@x'));
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('roll the transaction back');
      }),
    ).rejects.toThrow('roll the transaction back');
    await written;
    // The rolled-back transaction took only its own row with it.
    expect(await emails()).toEqual(['batched@x']);
    expect(sqliteNow(database.db)).toBeDefined();
  });
});
