import type { Db } from '../shared/db';
import type { FactoryReportOutcome } from '../shared/db/schema';

/** Answers that settle a report URL for good: calling it again cannot end any chaos. */
const SETTLED_OUTCOMES: FactoryReportOutcome[] = ['resolved', 'no_chaos', 'unresolved', 'refused'];

export interface ReportCandidate {
  orderId: number;
  /** Raw: it carries the factory API key. */
  reportUrl: string;
}

/**
 * The report URL of the chaos that is on now: the newest one stored on an order (by a failure, a throttled
 * success or a late answer) since the last successful resolution, among those the factory has not already
 * answered for good.
 */
export async function currentReportCandidate(db: Db): Promise<ReportCandidate | null> {
  const lastResolution = await db
    .selectFrom('factory_reports')
    .select((eb) => eb.fn.max('created_at').as('at'))
    .where('outcome', '=', 'resolved')
    .executeTakeFirst();
  const since = lastResolution?.at === null || lastResolution?.at === undefined ? -1 : Number(lastResolution.at);
  const row = await db
    .selectFrom('orders')
    .select(['id', 'report_url'])
    .where('report_url', 'is not', null)
    .where('updated_at', '>', since)
    .where('report_url', 'not in', (eb) => eb.selectFrom('factory_reports').select('report_url').where('outcome', 'in', SETTLED_OUTCOMES))
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.report_url ? { orderId: Number(row.id), reportUrl: row.report_url } : null;
}

export async function recordReportAnswer(
  db: Db,
  answer: { reportUrl: string; orderId: number; outcome: FactoryReportOutcome; factoryStatus?: number; message: string; at: number },
): Promise<void> {
  await db
    .insertInto('factory_reports')
    .values({
      report_url: answer.reportUrl.slice(0, 2048),
      order_id: answer.orderId,
      outcome: answer.outcome,
      factory_status: answer.factoryStatus ?? null,
      message: answer.message.slice(0, 255),
      created_at: answer.at,
    })
    .execute();
}
