import type { AppContext } from '../context';
import { redactReportUrl } from '../factory/redact';
import { AppError, notFound } from '../shared/errors';
import { recentFailures } from './ordersRepository';

/**
 * The on-call views. The raw report URL carries the factory API key, so it never leaves the service:
 * the views show it with the key redacted, and the resolve action calls it server-side.
 */
export async function listFailures(ctx: AppContext, limit: number) {
  const failures = await recentFailures(ctx.db, limit);
  return {
    failures: failures.map((o) => ({
      orderId: o.id,
      dinerId: o.dinerId,
      franchiseId: o.franchiseId,
      storeId: o.storeId,
      date: new Date(o.createdAt).toISOString(),
      reason: o.failureReason,
      message: o.failureMessage,
      factoryStatus: o.factoryStatus,
      attempts: o.attempts,
      reportUrl: o.reportUrl ? redactReportUrl(o.reportUrl) : null,
      // The trace of the failed attempt (Tempo), when tracing sampled it.
      traceId: o.traceId,
    })),
  };
}

export function factoryStatus(ctx: AppContext) {
  return { url: ctx.factoryPublicUrl, ...ctx.factory.state() };
}

export async function resolveActiveChaos(ctx: AppContext) {
  const latest = (await recentFailures(ctx.db, 50)).find((o) => o.reportUrl);
  if (!latest?.reportUrl) throw notFound('no failed order carries a factory report URL');
  const url = new URL(latest.reportUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError(422, 'bad_report_url', 'the stored report URL is not http(s)');
  const response = await fetch(url, { signal: AbortSignal.timeout(ctx.config.factory.timeoutMs) }).catch((error: unknown) => {
    ctx.logger.warn({ type: 'factory', event: 'report', err: error, reportUrl: redactReportUrl(latest.reportUrl!) }, 'calling the factory report URL failed');
    throw new AppError(502, 'report_failed', 'the factory did not answer the report URL');
  });
  const body = (await response.json().catch(() => ({}))) as { message?: string; msg?: string };
  ctx.logger.info({ type: 'factory', event: 'report', status: response.status, orderId: latest.id, reportUrl: redactReportUrl(latest.reportUrl) }, 'factory report URL called');
  return { message: body.message ?? body.msg ?? `factory answered ${response.status}`, factoryStatus: response.status, orderId: latest.id };
}
