import type { Config } from './config';
import type { FactoryClient } from './factory/types';
import type { Db, DatabaseHandle } from './shared/db';
import type { Logger } from './shared/logging/logger';
import type { Metrics } from './shared/metrics/metrics';
import type { RateLimitStore } from './shared/rateLimit/store';

/** Everything a use case may touch, injected by createApp(deps); nothing is imported as a module singleton. */
export interface AppContext {
  config: Config;
  database: DatabaseHandle;
  db: Db;
  logger: Logger;
  metrics: Metrics;
  rateLimits: RateLimitStore;
  factory: FactoryClient;
  /** Public URL of the factory for the browser (it verifies pizza JWTs there). */
  factoryPublicUrl: string;
  now(): number;
}
