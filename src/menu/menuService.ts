import type { AppContext } from '../context';
import { btcToUnits } from '../shared/money';
import { insertMenuItem, listMenu, type PricedMenuItem } from './menuRepository';

type Entry = { json: string; byId: Map<number, PricedMenuItem>; at: number };

/**
 * The menu is read on every page of the frontend, so it is served from memory as ready-made JSON.
 * A change on this instance invalidates at once; a short TTL bounds staleness when another instance
 * changed it. Orders price their items from the same entry: menu items are only ever added (the API
 * has no update or delete), so a cached item is the database's item, and an id the entry lacks makes
 * it reload before the id is called unknown.
 */
export class MenuCache {
  private cached?: Entry;
  private loading?: Promise<Entry>;

  constructor(
    private readonly ctx: AppContext,
    private readonly ttlMs = 5_000,
  ) {}

  async json(): Promise<string> {
    return (await this.entry()).json;
  }

  /** The menu's JSON while the cached copy is fresh, else undefined (then `json()` reads it). */
  freshJson(): string | undefined {
    return this.fresh()?.json;
  }

  private fresh(): Entry | undefined {
    const cached = this.cached;
    return cached && this.ctx.now() - cached.at < this.ttlMs ? cached : undefined;
  }

  /** The menu items with these ids; ids that are not on the menu are absent from the map. */
  async itemsByIds(ids: number[]): Promise<Map<number, PricedMenuItem>> {
    let entry = await this.entry();
    if (ids.some((id) => !entry.byId.has(id))) {
      this.invalidate();
      entry = await this.entry();
    }
    return entry.byId;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async entry(): Promise<Entry> {
    const fresh = this.fresh();
    if (fresh) return fresh;
    const now = this.ctx.now();
    // One database read however many requests arrive while it is in flight.
    this.loading ??= listMenu(this.ctx.db)
      .then((items) => {
        const json = JSON.stringify(items.map(({ id, title, image, price, description }) => ({ id, title, image, price, description })));
        return (this.cached = { json, byId: new Map(items.map((item) => [item.id, item])), at: now });
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }
}

export async function addMenuItem(ctx: AppContext, cache: MenuCache, item: { title: string; description: string; image: string; price: number }): Promise<string> {
  await insertMenuItem(ctx.db, { title: item.title, description: item.description, image: item.image, priceUnits: btcToUnits(item.price) });
  cache.invalidate();
  return cache.json();
}
