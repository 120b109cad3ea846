import type { Generated } from 'kysely';

/** Timestamps are epoch milliseconds and money is integer units of 1e-8 BTC, identical on both backends. */
export interface UsersTable {
  id: Generated<number>;
  name: string;
  email: string;
  password_hash: string;
  created_at: number;
}

export interface UserRolesTable {
  id: Generated<number>;
  user_id: number;
  role: 'diner' | 'franchisee' | 'admin';
  object_id: number | null;
}

export interface SessionsTable {
  id: string;
  user_id: number;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

export interface MenuItemsTable {
  id: Generated<number>;
  title: string;
  description: string;
  image: string;
  price_units: number;
}

export interface FranchisesTable {
  id: Generated<number>;
  name: string;
}

export interface StoresTable {
  id: Generated<number>;
  franchise_id: number;
  name: string;
  /** The sum of total_units of the store's fulfilled orders, kept by ordersRepository.markFulfilled. */
  revenue_units: Generated<number>;
}

export type OrderStatus = 'pending' | 'fulfilled' | 'failed';

export interface OrdersTable {
  id: Generated<number>;
  diner_id: number | null;
  franchise_id: number | null;
  store_id: number | null;
  created_at: number;
  status: OrderStatus;
  total_units: number;
  idempotency_key: string | null;
  jwt: string | null;
  failure_reason: string | null;
  failure_message: string | null;
  factory_status: number | null;
  report_url: string | null;
  /** The sampled trace of the attempt that failed (tracing on), so the failures view leads to it. */
  trace_id: string | null;
  attempts: number;
  updated_at: number;
}

export interface OrderItemsTable {
  id: Generated<number>;
  order_id: number;
  menu_id: number;
  description: string;
  price_units: number;
}

/** How the factory answered a report URL the on-call action called (or why it was not called). */
export type FactoryReportOutcome = 'resolved' | 'no_chaos' | 'unresolved' | 'refused' | 'error';

export interface FactoryReportsTable {
  id: Generated<number>;
  report_url: string;
  order_id: number | null;
  outcome: FactoryReportOutcome;
  factory_status: number | null;
  message: string | null;
  created_at: number;
}

export interface Database {
  users: UsersTable;
  user_roles: UserRolesTable;
  sessions: SessionsTable;
  menu_items: MenuItemsTable;
  franchises: FranchisesTable;
  stores: StoresTable;
  orders: OrdersTable;
  order_items: OrderItemsTable;
  factory_reports: FactoryReportsTable;
}
