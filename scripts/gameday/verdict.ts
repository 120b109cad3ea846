// What the pager saw, judged: the checks each scenario makes on the notifications the webhook
// receiver recorded (and on what fired inside Prometheus, for the alerts that must stay quiet).
import type { ScenarioName } from './profile';
import type { Notification } from './webhook';

export const PAGE_RECEIVER = 'pizza-oncall-pages';
export const TICKET_RECEIVER = 'pizza-oncall-tickets';
/** The admin action every factory page must show in its first lines. */
export const ADMIN_ACTION = 'POST /api/order/factory/report';

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface NotificationFacts {
  scenario: ScenarioName;
  notifications: Notification[];
  /** Transitions into firing inside Prometheus, per alert name. */
  firedInPrometheus: Record<string, number>;
  /** Alert names Alertmanager was seen holding as inhibited. */
  inhibitedInAlertmanager: string[];
  firstFailureAt?: number;
  fixAt?: number;
  /** First successful purchase after the fix: no resolve may come before it. */
  firstOkAfterFixAt?: number;
  /** Wall-clock budget from the first failed order to the page (3 real minutes, scaled). */
  pageBudgetMs: number;
  /** Strings that must never appear in a notification (the factory API key, the chaos admin key). */
  secrets: string[];
}

interface Expectation {
  /** The page must be one of these (exactly one page notification); empty: no page at all. */
  page: string[];
  ticket?: string;
  /** These may fire in Prometheus but must never notify. */
  quiet: string[];
  /** Bursty fail: the naive rule, routed the same way, pages more than once. */
  naive?: boolean;
}

const EXPECTED: Record<ScenarioName, Expectation> = {
  'bursty-fail': { page: ['PizzaPurchaseFailures'], quiet: ['PizzaFactoryCircuitOpen'], naive: true },
  // PizzaInvalidJwt names the cause and inhibits the purchase page and the circuit ticket.
  badjwt: { page: ['PizzaInvalidJwt'], quiet: ['PizzaPurchaseFailures', 'PizzaFactoryCircuitOpen'] },
  throttle: { page: ['PizzaPurchaseFailures'], quiet: ['PizzaFactoryCircuitOpen', 'PizzaFactoryLatencyHigh'] },
  scanner: { page: [], ticket: 'ScannerProbesDetected', quiet: [] },
  healthy: { page: [], quiet: [] },
};

const NAIVE_LABEL = 'anti_example';

export const alertnameOf = (notification: Notification) => notification.groupLabels.alertname ?? notification.alerts[0]?.labels.alertname ?? '?';
export const isAntiExample = (notification: Notification) => notification.alerts.some((alert) => alert.labels[NAIVE_LABEL] === 'true');

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function notificationChecks(facts: NotificationFacts): Check[] {
  const expected = EXPECTED[facts.scenario];
  const checks: Check[] = [];
  const real = facts.notifications.filter((n) => !isAntiExample(n));
  const pages = real.filter((n) => n.receiver === PAGE_RECEIVER && n.status === 'firing');
  const tickets = real.filter((n) => n.receiver === TICKET_RECEIVER && n.status === 'firing');
  const list = (ns: Notification[]) => ns.map((n) => `${alertnameOf(n)} (${n.status})`).join(', ') || 'none';

  if (expected.page.length > 0) {
    checks.push({
      name: 'exactly one page notification',
      pass: pages.length === 1 && expected.page.includes(alertnameOf(pages[0]!)),
      detail: `${pages.length} page notification(s): ${list(pages)}; expected one for ${expected.page.join(' or ')}`,
    });
    const first = pages[0];
    if (first && facts.firstFailureAt !== undefined) {
      const delay = first.at - facts.firstFailureAt;
      checks.push({ name: 'paged within 3 minutes (scaled) of the first failure', pass: delay <= facts.pageBudgetMs, detail: `${seconds(delay)} after the first failed order (budget ${seconds(facts.pageBudgetMs)})` });
    } else checks.push({ name: 'paged within 3 minutes (scaled) of the first failure', pass: false, detail: first ? 'no failed order recorded' : 'no page at all' });

    const paged = first ? alertnameOf(first) : expected.page[0]!;
    const resolves = real.filter((n) => n.status === 'resolved' && alertnameOf(n) === paged);
    const early = resolves.filter((n) => facts.firstOkAfterFixAt === undefined || n.at < facts.firstOkAfterFixAt);
    checks.push({
      name: 'exactly one resolve, only after purchases succeed again',
      pass: resolves.length === 1 && early.length === 0,
      detail:
        `${resolves.length} resolve notification(s) for ${paged}` +
        (early.length ? `, ${early.length} before the first successful purchase after the fix` : '') +
        (resolves[0] && facts.firstOkAfterFixAt !== undefined ? `; resolved ${seconds(resolves[0].at - facts.firstOkAfterFixAt)} after the first successful purchase` : ''),
    });

    const missing: string[] = [];
    for (const page of pages) {
      for (const alert of page.alerts.filter((a) => a.status === 'firing')) {
        const text = Object.values(alert.annotations).join('\n');
        if (!/^https?:\/\//.test(alert.annotations.runbook_url ?? '')) missing.push(`${alert.labels.alertname}: no runbook_url`);
        if (!text.includes(ADMIN_ACTION)) missing.push(`${alert.labels.alertname}: no '${ADMIN_ACTION}'`);
      }
    }
    checks.push({ name: 'the page names the runbook URL and the admin action', pass: pages.length > 0 && missing.length === 0, detail: missing.join('; ') || `runbook_url and '${ADMIN_ACTION}' in every paged alert` });
  } else {
    checks.push({ name: 'no page', pass: pages.length === 0, detail: `${pages.length} page notification(s): ${list(pages)}` });
  }

  if (expected.ticket) {
    const ours = tickets.filter((n) => alertnameOf(n) === expected.ticket);
    checks.push({ name: 'exactly one ticket notification', pass: tickets.length === 1 && ours.length === 1, detail: `${tickets.length} ticket notification(s): ${list(tickets)}; expected one for ${expected.ticket}` });
  }

  if (facts.scenario === 'healthy') {
    checks.push({ name: 'zero notifications', pass: facts.notifications.length === 0, detail: `${facts.notifications.length} notification(s): ${list(facts.notifications)}` });
  }

  for (const name of expected.quiet) {
    const fired = facts.firedInPrometheus[name] ?? 0;
    const sent = real.filter((n) => alertnameOf(n) === name).length;
    const inhibited = facts.inhibitedInAlertmanager.includes(name);
    checks.push({
      name: `${name} does not notify`,
      pass: sent === 0 && (fired === 0 || inhibited),
      detail: fired === 0 ? `never fired in Prometheus (${sent} notifications)` : `fired ${fired}× in Prometheus, ${inhibited ? 'inhibited in Alertmanager' : 'never seen inhibited in Alertmanager'}, ${sent} notification(s)`,
    });
  }

  if (expected.naive) {
    const naive = facts.notifications.filter((n) => isAntiExample(n) && n.receiver === PAGE_RECEIVER && n.status === 'firing').length;
    checks.push({ name: 'the naive rule, routed the same way, pages more than once', pass: naive >= 2, detail: `naive: ${naive} page notifications; ours: ${pages.length}` });
  }

  const leaks = facts.secrets.filter((secret) => secret && facts.notifications.some((n) => n.raw.includes(secret)));
  checks.push({ name: 'no notification carries the factory API key or the admin key', pass: leaks.length === 0, detail: leaks.length ? `${leaks.length} secret(s) found in notifications` : `${facts.notifications.length} notification(s) searched` });
  return checks;
}
