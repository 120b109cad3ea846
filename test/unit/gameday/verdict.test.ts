import { describeNotification, openGroups, readAlertmanagerTiming, throttleTiming } from '../../../scripts/gameday/run';
import { scaleNotificationDuration } from '../../../scripts/gameday/scale';
import { notificationChecks, type NotificationFacts } from '../../../scripts/gameday/verdict';
import { parseNotification, type Notification } from '../../../scripts/gameday/webhook';

const RUNBOOK = 'https://github.com/jwt-pizza/jwt-pizza-service/blob/main/docs/runbooks/pizza-purchase-failures.md';
const ACTION = 'Declare one incident. End the factory chaos: POST /api/order/factory/report with an admin token.';

function buildNotification(overrides: { at: number; alertname?: string; receiver?: string; status?: 'firing' | 'resolved'; labels?: Record<string, string>; annotations?: Record<string, string> }): Notification {
  const alertname = overrides.alertname ?? 'PizzaPurchaseFailures';
  const status = overrides.status ?? 'firing';
  const labels = { alertname, source: 'jwt-pizza-service', severity: 'page', team: 'pizza-oncall', ...overrides.labels };
  const annotations = overrides.annotations ?? { summary: 'Pizza purchases are failing (80% over 10m)', runbook_url: RUNBOOK, action: ACTION };
  const payload = {
    version: '4',
    receiver: overrides.receiver ?? 'pizza-oncall-pages',
    status,
    groupKey: `{}/{}:{alertname="${alertname}", source="jwt-pizza-service"}`,
    groupLabels: { alertname, source: 'jwt-pizza-service' },
    alerts: [{ status, labels, annotations, startsAt: '2026-12-03T07:00:00Z', endsAt: '0001-01-01T00:00:00Z' }],
  };
  return parseNotification(JSON.stringify(payload), `/${payload.receiver}`, overrides.at);
}

function facts(overrides: Partial<NotificationFacts>): NotificationFacts {
  return {
    scenario: 'bursty-fail',
    notifications: [],
    firedInPrometheus: {},
    inhibitedInAlertmanager: [],
    firstFailureAt: 1000,
    fixAt: 50_000,
    firstOkAfterFixAt: 51_000,
    pageBudgetMs: 9000,
    secrets: ['gameday-factory-api-key-abc'],
    ...overrides,
  };
}

const failed = (checks: { name: string; pass: boolean }[]) => checks.filter((k) => !k.pass).map((k) => k.name);
const naivePage = (at: number, status: 'firing' | 'resolved' = 'firing') => buildNotification({ at, status, alertname: 'NaivePizzaPurchaseFailures', labels: { anti_example: 'true' }, annotations: {} });

describe('notificationChecks', () => {
  const page = buildNotification({ at: 8000 });
  const resolve = buildNotification({ at: 60_000, status: 'resolved' });

  test('bursty-fail: one page in time, one resolve after recovery, an inhibited circuit ticket and a noisy naive rule pass', () => {
    const checks = notificationChecks(
      facts({
        notifications: [naivePage(7000), page, naivePage(20_000, 'resolved'), naivePage(30_000), resolve],
        firedInPrometheus: { PizzaPurchaseFailures: 1, PizzaFactoryCircuitOpen: 1, NaivePizzaPurchaseFailures: 4 },
        inhibitedInAlertmanager: ['PizzaFactoryCircuitOpen'],
      }),
    );
    expect(failed(checks)).toEqual([]);
    expect(checks.find((k) => k.name.startsWith('the naive rule'))?.detail).toBe('naive: 2 page notifications; ours: 1');
  });

  test('a second page (the flapping of 2025-11-26) fails', () => {
    const again = buildNotification({ at: 30_000 });
    const checks = notificationChecks(facts({ notifications: [page, buildNotification({ at: 20_000, status: 'resolved' }), again, resolve] }));
    expect(failed(checks)).toEqual(expect.arrayContaining(['exactly one page notification', 'exactly one resolve, only after purchases succeed again']));
  });

  test('a page later than 3 minutes (scaled) after the first failure fails', () => {
    const late = buildNotification({ at: 10_001 + 1000 });
    expect(failed(notificationChecks(facts({ notifications: [late, resolve] })))).toContain('paged within 3 minutes (scaled) of the first failure');
  });

  test('a resolve before purchases succeed again fails, even when it is the only one', () => {
    const early = buildNotification({ at: 50_500, status: 'resolved' });
    expect(failed(notificationChecks(facts({ notifications: [page, early] })))).toContain('exactly one resolve, only after purchases succeed again');
  });

  test('a page without the runbook URL or the admin action fails', () => {
    const bare = buildNotification({ at: 8000, annotations: { summary: 'Pizza purchases are failing' } });
    const check = notificationChecks(facts({ notifications: [bare, resolve] })).find((k) => k.name === 'the page names the runbook URL and the admin action');
    expect(check?.pass).toBe(false);
    expect(check?.detail).toContain('no runbook_url');
    expect(check?.detail).toContain("no 'POST /api/order/factory/report'");
  });

  test('a notification carrying a secret fails, and the detail does not repeat the secret', () => {
    const leaky = buildNotification({ at: 8000, annotations: { summary: 'x', runbook_url: RUNBOOK, action: ACTION, description: 'url /api/support/gameday-factory-api-key-abc/report/1' } });
    const check = notificationChecks(facts({ notifications: [leaky, resolve] })).find((k) => k.name.startsWith('no notification carries'));
    expect(check?.pass).toBe(false);
    expect(check?.detail).not.toContain('gameday-factory-api-key-abc');
  });

  test('a ticket that must stay quiet fails when it notifies, and when it fired but was never seen inhibited', () => {
    const ticket = buildNotification({ at: 9000, alertname: 'PizzaFactoryCircuitOpen', receiver: 'pizza-oncall-tickets', labels: { severity: 'ticket' } });
    const noisy = notificationChecks(facts({ notifications: [page, ticket, resolve], firedInPrometheus: { PizzaFactoryCircuitOpen: 1 }, inhibitedInAlertmanager: ['PizzaFactoryCircuitOpen'] }));
    expect(failed(noisy)).toContain('PizzaFactoryCircuitOpen does not notify');
    const unproven = notificationChecks(facts({ notifications: [page, resolve], firedInPrometheus: { PizzaFactoryCircuitOpen: 1 } }));
    expect(failed(unproven)).toContain('PizzaFactoryCircuitOpen does not notify');
  });

  test('bursty-fail without the naive rule paging twice fails (the comparison is part of the drill)', () => {
    expect(failed(notificationChecks(facts({ notifications: [naivePage(7000), page, resolve] })))).toEqual(['the naive rule, routed the same way, pages more than once']);
  });

  test('badjwt expects the invalid-JWT page; a purchase page instead fails', () => {
    const jwtPage = buildNotification({ at: 3000, alertname: 'PizzaInvalidJwt' });
    const jwtResolve = buildNotification({ at: 90_000, alertname: 'PizzaInvalidJwt', status: 'resolved' });
    const ok = notificationChecks(facts({ scenario: 'badjwt', notifications: [jwtPage, jwtResolve], firedInPrometheus: { PizzaPurchaseFailures: 1 }, inhibitedInAlertmanager: ['PizzaPurchaseFailures'] }));
    expect(failed(ok)).toEqual([]);
    expect(ok.find((k) => k.name === 'PizzaFactoryCircuitOpen does not notify')?.detail).toBe('never fired in Prometheus (0 notifications)');
    expect(failed(notificationChecks(facts({ scenario: 'badjwt', notifications: [page, resolve] })))).toContain('exactly one page notification');
  });

  test('scanner: one ticket and no page passes; a page or a second ticket fails', () => {
    const ticket = buildNotification({ at: 5000, alertname: 'ScannerProbesDetected', receiver: 'pizza-oncall-tickets', labels: { severity: 'ticket', category: 'dotenv' } });
    expect(failed(notificationChecks(facts({ scenario: 'scanner', notifications: [ticket] })))).toEqual([]);
    expect(failed(notificationChecks(facts({ scenario: 'scanner', notifications: [ticket, buildNotification({ at: 15_000, alertname: 'ScannerProbesDetected', receiver: 'pizza-oncall-tickets' })] })))).toEqual(['exactly one ticket notification']);
    expect(failed(notificationChecks(facts({ scenario: 'scanner', notifications: [ticket, page] })))).toEqual(['no page']);
  });

  test('healthy: any notification at all fails, a ticket included', () => {
    expect(failed(notificationChecks(facts({ scenario: 'healthy' })))).toEqual([]);
    const ticket = buildNotification({ at: 5000, alertname: 'LoginFailureBurst', receiver: 'pizza-oncall-tickets' });
    expect(failed(notificationChecks(facts({ scenario: 'healthy', notifications: [ticket] })))).toEqual(['zero notifications']);
  });
});

describe('parseNotification', () => {
  test('refuses a body that is not an Alertmanager webhook payload', () => {
    expect(() => parseNotification('{"hello":1}', '/x', 0)).toThrow(/not an Alertmanager webhook payload/);
    expect(() => parseNotification('not json', '/x', 0)).toThrow();
  });
});

describe('the pager timeline helpers', () => {
  test('describeNotification shows what a pager shows first', () => {
    expect(describeNotification(buildNotification({ at: 0 }))).toBe(`pager: PAGE → pizza-oncall-pages: [FIRING:1] PizzaPurchaseFailures: Pizza purchases are failing (80% over 10m) · runbook ${RUNBOOK}`);
    expect(describeNotification(buildNotification({ at: 0, status: 'resolved' }))).toBe('pager: PAGE → pizza-oncall-pages: [RESOLVED] PizzaPurchaseFailures: Pizza purchases are failing (80% over 10m)');
  });

  test('openGroups lists the groups whose last word was firing', () => {
    expect(openGroups([buildNotification({ at: 0 }), buildNotification({ at: 1, alertname: 'PizzaInvalidJwt' }), buildNotification({ at: 2, status: 'resolved' })])).toEqual(['pizza-oncall-pages/PizzaInvalidJwt']);
  });

  test('readAlertmanagerTiming reads the scaled tree back', () => {
    const config = [
      'route:',
      '  receiver: pizza-oncall-tickets',
      `  group_wait: ${scaleNotificationDuration('30s', 20)}`,
      `  group_interval: ${scaleNotificationDuration('5m', 20)}`,
      `  repeat_interval: ${scaleNotificationDuration('24h', 20)}`,
      '  routes:',
      '    - receiver: pizza-oncall-pages',
      `      repeat_interval: ${scaleNotificationDuration('4h', 20)}`,
      '    - receiver: pizza-oncall-tickets',
      '',
    ].join('\n');
    expect(readAlertmanagerTiming(config)).toEqual({ groupWait: '1s500ms', groupInterval: '15s', repeatInterval: { 'pizza-oncall-pages': '12m', 'pizza-oncall-tickets': '1h12m' } });
  });

  test('throttleTiming keeps the hold 4x the timeout and the timeout at least 1 s', () => {
    expect(throttleTiming({ factor: 1 })).toEqual({ timeoutMs: 8000, delayMs: 32_000 });
    expect(throttleTiming({ factor: 4 })).toEqual({ timeoutMs: 2000, delayMs: 8000 });
    expect(throttleTiming({ factor: 30 })).toEqual({ timeoutMs: 1000, delayMs: 4000 });
  });
});
