import type { AppContext } from '../context';
import type { LateFactoryAnswer } from '../factory/client';
import { redactReportUrl } from '../factory/redact';
import { attachLateReportUrl } from './ordersRepository';

/** Time for the order's own `failed` write to land when the late answer beats it (deadline and answer nearly together). */
const STORE_RETRY_DELAY_MS = 500;

/**
 * Records the factory's late answers: counted, and their report URL stored on the order that failed `timeout`,
 * so on-call's report action can end the factory's chaos. The factory client exists before the app context,
 * hence `bind` once it does; answers arriving before that (none can: no order is placed yet) are ignored.
 */
export function createLateAnswerRecorder() {
  let ctx: AppContext | undefined;
  return {
    bind(appCtx: AppContext): void {
      ctx = appCtx;
    },
    async onAnswer(answer: LateFactoryAnswer): Promise<void> {
      if (!ctx) return;
      const app = ctx;
      app.metrics.factoryLateAnswers.inc({ pizza: answer.pizzaMade ? 'made' : 'none' });
      if (!answer.reportUrl) return;
      const reportUrl = answer.reportUrl;
      let stored = await attachLateReportUrl(app.db, answer.orderId, reportUrl, app.now());
      if (!stored) {
        await new Promise((resolve) => setTimeout(resolve, STORE_RETRY_DELAY_MS));
        stored = await attachLateReportUrl(app.db, answer.orderId, reportUrl, app.now());
      }
      if (!stored) app.logger.info({ type: 'factory', event: 'late_answer', orderId: answer.orderId, reportUrl: redactReportUrl(reportUrl) }, 'late report URL not stored: the order is no longer failed');
    },
  };
}
