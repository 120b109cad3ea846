import type { AppContext } from '../context';
import { redactReportUrl } from '../factory/redact';
import { callReportUrl, reportCallTarget } from '../factory/report';
import type { FactoryReportOutcome } from '../shared/db/schema';
import { AppError, notFound } from '../shared/errors';
import { currentReportCandidate, recordReportAnswer } from './factoryReportsRepository';
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

/**
 * Ends the factory's chaos on on-call's behalf, without handing them the API key: calls the report URL of the
 * chaos that is on now (see currentReportCandidate) and records what the factory answered, so a URL answered for
 * good is never called again. The answer names the order whose URL was used. Only "Problem resolved" is a success;
 * "No chaos currently executing" is said as such; any other answer is a 502 naming the factory's status and message.
 */
export async function resolveActiveChaos(ctx: AppContext) {
  const candidate = await currentReportCandidate(ctx.db);
  if (!candidate) {
    throw notFound("no report URL of a running chaos: none stored since the last resolution, or the factory already answered each one (a throttle's URL comes with its late answer, about 32 s after the order)");
  }
  const { orderId, reportUrl } = candidate;
  const shown = redactReportUrl(reportUrl);
  const log = { type: 'factory', event: 'report', orderId, reportUrl: shown };
  const record = (outcome: FactoryReportOutcome, message: string, factoryStatus?: number) =>
    recordReportAnswer(ctx.db, { reportUrl, orderId, outcome, message, at: ctx.now(), ...(factoryStatus === undefined ? {} : { factoryStatus }) });

  const checked = reportCallTarget(reportUrl, ctx.factoryPublicUrl);
  if ('problem' in checked) {
    await record('refused', checked.problem);
    ctx.logger.warn({ ...log, outcome: 'refused', detail: checked.problem }, 'factory report URL refused, not called');
    throw new AppError(422, 'report_url_refused', `the report URL of order ${orderId} was not called: ${checked.problem}`, { orderId, reportUrl: shown });
  }

  let answer;
  try {
    answer = await callReportUrl(checked.target, ctx.config.factory.timeoutMs);
  } catch (error) {
    ctx.logger.warn({ ...log, outcome: 'unreachable', err: error }, 'calling the factory report URL failed');
    throw new AppError(502, 'report_failed', 'the factory did not answer the report URL', { orderId, reportUrl: shown });
  }
  const factoryMessage = redactReportUrl(answer.message);
  await record(answer.outcome, factoryMessage, answer.status);
  ctx.logger.info({ ...log, outcome: answer.outcome, status: answer.status, factoryMessage }, 'factory report URL called');

  const result = { outcome: answer.outcome, factoryStatus: answer.status, factoryMessage, orderId, reportUrl: shown };
  if (answer.outcome === 'resolved') return { ...result, message: `chaos resolved: ${factoryMessage}` };
  if (answer.outcome === 'no_chaos') return { ...result, message: `nothing resolved: the factory says "${factoryMessage}"` };
  const why = answer.outcome === 'unresolved' ? ' (the URL is stale: a newer chaos replaced it, or its fix code is wrong)' : '';
  throw new AppError(502, 'report_not_resolved', `the factory answered ${answer.status}: ${factoryMessage || 'no message'}${why}`, result);
}
