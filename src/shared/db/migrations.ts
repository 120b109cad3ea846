import { type Kysely, type Migration, type MigrationProvider, MysqlAdapter, sql } from 'kysely';

/**
 * Versioned migrations, run at start-up by Kysely's Migrator. On MySQL its lock table makes instances
 * that start together apply each migration once; on SQLite that lock is a no-op, so one process migrates
 * (the cluster primary does it before forking workers). Written with the schema builder so one definition
 * serves SQLite and MySQL; append new entries, never edit applied ones.
 */
const migrations: Record<string, Migration> = {
  '2026_11_01_0001_initial': {
    async up(db: Kysely<any>) {
      // Foreign keys are table constraints, not inline column REFERENCES: MySQL 8 parses and ignores the latter.
      // bigint holds epoch ms and 1e-8 BTC units on MySQL; SQLite integers are 64-bit anyway.
      await db.schema
        .createTable('users')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('email', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('user_roles')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('role', 'varchar(32)', (c) => c.notNull())
        .addColumn('object_id', 'integer')
        .addForeignKeyConstraint('user_roles_user_id_fk', ['user_id'], 'users', ['id'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('user_roles_user_idx').on('user_roles').column('user_id').execute();
      await db.schema.createIndex('user_roles_role_object_idx').on('user_roles').columns(['role', 'object_id']).execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addForeignKeyConstraint('sessions_user_id_fk', ['user_id'], 'users', ['id'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();
      await db.schema.createIndex('sessions_last_seen_idx').on('sessions').column('last_seen_at').execute();

      await db.schema
        .createTable('menu_items')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('title', 'varchar(255)', (c) => c.notNull())
        .addColumn('description', 'varchar(1024)', (c) => c.notNull())
        .addColumn('image', 'varchar(1024)', (c) => c.notNull())
        .addColumn('price_units', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('franchises')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .execute();

      await db.schema
        .createTable('stores')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('franchise_id', 'integer', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addForeignKeyConstraint('stores_franchise_id_fk', ['franchise_id'], 'franchises', ['id'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('stores_franchise_idx').on('stores').column('franchise_id').execute();

      // Orders are the ledger: they outlive the diner, store and franchise they name (SET NULL), so
      // deleting a franchise or a user never loses an order or its revenue record.
      await db.schema
        .createTable('orders')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('diner_id', 'integer')
        .addColumn('franchise_id', 'integer')
        .addColumn('store_id', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('total_units', 'bigint', (c) => c.notNull())
        .addColumn('idempotency_key', 'varchar(255)')
        .addColumn('jwt', 'text')
        .addColumn('failure_reason', 'varchar(32)')
        .addColumn('failure_message', 'varchar(1024)')
        .addColumn('factory_status', 'integer')
        .addColumn('report_url', 'varchar(2048)')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addForeignKeyConstraint('orders_diner_id_fk', ['diner_id'], 'users', ['id'], (fk) => fk.onDelete('set null'))
        .addForeignKeyConstraint('orders_franchise_id_fk', ['franchise_id'], 'franchises', ['id'], (fk) => fk.onDelete('set null'))
        .addForeignKeyConstraint('orders_store_id_fk', ['store_id'], 'stores', ['id'], (fk) => fk.onDelete('set null'))
        .execute();
      await db.schema.createIndex('orders_diner_idx').on('orders').columns(['diner_id', 'id']).execute();
      await db.schema.createIndex('orders_store_status_idx').on('orders').columns(['store_id', 'status']).execute();
      await db.schema.createIndex('orders_status_idx').on('orders').columns(['status', 'updated_at']).execute();
      await db.schema.createIndex('orders_idempotency_idx').on('orders').columns(['diner_id', 'idempotency_key']).unique().execute();

      await db.schema
        .createTable('order_items')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('order_id', 'integer', (c) => c.notNull())
        .addColumn('menu_id', 'integer', (c) => c.notNull())
        .addColumn('description', 'varchar(1024)', (c) => c.notNull())
        .addColumn('price_units', 'bigint', (c) => c.notNull())
        .addForeignKeyConstraint('order_items_order_id_fk', ['order_id'], 'orders', ['id'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('order_items_order_idx').on('order_items').column('order_id').execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ['order_items', 'orders', 'stores', 'franchises', 'menu_items', 'sessions', 'user_roles', 'users']) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  },
  // MariaDB before 11.6 creates databases in latin1 by default, where an emoji or most non-Latin text
  // fails every insert (500). The tables are converted, whatever the server's default; SQLite is UTF-8.
  '2026_11_22_0002_utf8mb4': {
    async up(db: Kysely<any>) {
      if (!(db.getExecutor().adapter instanceof MysqlAdapter)) return;
      await sql`alter database character set utf8mb4 collate utf8mb4_unicode_ci`.execute(db);
      for (const table of ['users', 'user_roles', 'sessions', 'menu_items', 'franchises', 'stores', 'orders', 'order_items']) {
        await sql`alter table ${sql.table(table)} convert to character set utf8mb4 collate utf8mb4_unicode_ci`.execute(db);
      }
    },
  },
  // Store revenue (the admin franchise list) sums total_units of a store's fulfilled orders: with
  // total_units in the index the sum reads the index alone, not one table row per order (5 ms -> 1.1 ms
  // per page of 30 stores at 20,000 orders, MariaDB). It replaces (store_id, status), its prefix, which
  // also serves the store_id foreign key.
  '2026_11_22_0003_orders_revenue_covering_index': {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('orders_store_revenue_idx').on('orders').columns(['store_id', 'status', 'total_units']).execute();
      await dropIndex(db, 'orders_store_status_idx', 'orders');
    },
    async down(db: Kysely<any>) {
      await db.schema.createIndex('orders_store_status_idx').on('orders').columns(['store_id', 'status']).execute();
      await dropIndex(db, 'orders_store_revenue_idx', 'orders');
    },
  },
  // Store revenue kept on the store: the admin franchise list summed each store's fulfilled orders on every
  // page, a cost that grew with the order history (1.13 -> 1.34 ms of service CPU per admin page from 600
  // to 20,000 orders, MariaDB). The order that becomes fulfilled adds its total in the same statement or
  // transaction (ordersRepository.markFulfilled). Existing stores start from their fulfilled orders.
  '2026_11_22_0004_store_revenue_units': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('stores').addColumn('revenue_units', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await sql`update stores set revenue_units = coalesce((select sum(o.total_units) from orders o where o.store_id = stores.id and o.status = 'fulfilled'), 0)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('stores').dropColumn('revenue_units').execute();
    },
  },
  // The trace of a failed order's last attempt, shown in GET /api/order/failures (null without tracing).
  '2026_12_03_0001_orders_trace_id': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('orders').addColumn('trace_id', 'varchar(32)').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('orders').dropColumn('trace_id').execute();
    },
  },
  // (utf8mb4 on MySQL by the database default that 0002 set.) What the factory answered each report URL the on-call action called: the action picks the URL of the chaos
  // that is on now, and never calls again a URL the factory already answered resolved, no chaos or unresolved.
  '2026_12_05_0001_factory_reports': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('factory_reports')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('report_url', 'varchar(2048)', (c) => c.notNull())
        .addColumn('order_id', 'integer')
        .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
        .addColumn('factory_status', 'integer')
        .addColumn('message', 'varchar(255)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addForeignKeyConstraint('factory_reports_order_id_fk', ['order_id'], 'orders', ['id'], (fk) => fk.onDelete('set null'))
        .execute();
      await db.schema.createIndex('factory_reports_outcome_idx').on('factory_reports').columns(['outcome', 'created_at']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('factory_reports').ifExists().execute();
    },
  },
};

/** MySQL names the table of an index to drop; SQLite refuses `DROP INDEX ... ON`. */
async function dropIndex(db: Kysely<any>, index: string, table: string): Promise<void> {
  const query = db.schema.dropIndex(index);
  await (db.getExecutor().adapter instanceof MysqlAdapter ? query.on(table) : query).execute();
}

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
