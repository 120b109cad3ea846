import type { AppContext } from '../context';
import { btcToUnits } from '../shared/money';
import { insertMenuItem, listMenu, type MenuItem } from './menuRepository';

/**
 * The menu is read on every page of the frontend, so it is served from memory as ready-made JSON.
 * A change on this instance invalidates at once; a short TTL bounds staleness when another instance
 * changed it.
 */
export class MenuCache {
  private cached?: { json: string; items: MenuItem[]; at: number };
  private loading?: Promise<{ json: string; items: MenuItem[]; at: number }>;

  constructor(
    private readonly ctx: AppContext,
    private readonly ttlMs = 5_000,
  ) {}

  async json(): Promise<string> {
    return (await this.entry()).json;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async entry() {
    const now = this.ctx.now();
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached;
    // One database read however many requests arrive while it is in flight.
    this.loading ??= listMenu(this.ctx.db)
      .then((items) => (this.cached = { json: JSON.stringify(items), items, at: now }))
      .finally(() => (this.loading = undefined));
    return this.loading;
  }
}

export async function addMenuItem(ctx: AppContext, cache: MenuCache, item: { title: string; description: string; image: string; price: number }): Promise<string> {
  await insertMenuItem(ctx.db, { title: item.title, description: item.description, image: item.image, priceUnits: btcToUnits(item.price) });
  cache.invalidate();
  return cache.json();
}
