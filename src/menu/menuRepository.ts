import type { Db } from '../shared/db';
import { insertedId } from '../shared/db';
import { unitsToBtc } from '../shared/money';

export interface MenuItem { id: number; title: string; image: string; price: number; description: string }

/** A menu row as orders price it: exact integer units. */
export interface PricedMenuItem extends MenuItem { priceUnits: number }

export async function listMenu(db: Db): Promise<PricedMenuItem[]> {
  const rows = await db.selectFrom('menu_items').select(['id', 'title', 'image', 'price_units', 'description']).orderBy('id').execute();
  return rows.map((r) => ({ id: Number(r.id), title: r.title, image: r.image, price: unitsToBtc(r.price_units), description: r.description, priceUnits: Number(r.price_units) }));
}

export async function insertMenuItem(db: Db, item: { title: string; description: string; image: string; priceUnits: number }): Promise<number> {
  return insertedId(
    await db
      .insertInto('menu_items')
      .values({ title: item.title, description: item.description, image: item.image, price_units: item.priceUnits })
      .executeTakeFirstOrThrow(),
  );
}

export async function menuIsEmpty(db: Db): Promise<boolean> {
  return (await db.selectFrom('menu_items').select('id').limit(1).execute()).length === 0;
}
