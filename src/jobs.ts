import { deleteExpiredSessions } from './auth/sessionsRepository';
import type { AppContext } from './context';
import { failStalePending } from './orders/ordersRepository';

/**
 * Background upkeep of one instance: database liveness for `db_up`, expired sessions, and orders left
 * pending by a process that died mid-call (older than any factory call can last), so none stays pending forever.
 */
export function startBackgroundJobs(ctx: AppContext, options: { healthEveryMs?: number; sweepEveryMs?: number } = {}) {
  const staleAfterMs = ctx.config.factory.timeoutMs * 2 + 30_000;
  const checkHealth = async () => {
    try {
      await ctx.database.ping();
      ctx.metrics.dbUp.set(1);
    } catch {
      ctx.metrics.dbUp.set(0);
    }
  };
  const sweep = async () => {
    try {
      const now = ctx.now();
      const failed = await failStalePending(ctx.db, now - staleAfterMs, now);
      if (failed.length) ctx.logger.warn({ type: 'db', event: 'pending_sweep', orderIds: failed }, 'failed orders left pending by an interrupted process');
      await deleteExpiredSessions(ctx.db, now);
    } catch (error) {
      ctx.logger.warn({ type: 'db', err: error }, 'background sweep failed');
    }
  };
  const health = setInterval(checkHealth, options.healthEveryMs ?? 5_000);
  const sweeper = setInterval(sweep, options.sweepEveryMs ?? 60_000);
  health.unref();
  sweeper.unref();
  return {
    /** The first sweep runs at start-up, before traffic. */
    initial: Promise.all([checkHealth(), sweep()]),
    stop() {
      clearInterval(health);
      clearInterval(sweeper);
    },
  };
}
