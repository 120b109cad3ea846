import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { addRuleLabels, formatMilliseconds, formatSeconds, parseDuration, scaleDuration, scaleNotificationDuration, scalePromql, scaleRuleFile } from '../../../scripts/gameday/scale';

describe('parseDuration', () => {
  test.each([
    ['45s', 45_000],
    ['5m', 300_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1h5m', 3_900_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['500ms', 500],
    ['1s500ms', 1500],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', '5', '1.5m', '1m 30s', '30s1m', '5mm', 'm', '-5m', '5M', '1h1h'])('%j is refused', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a Prometheus duration/);
  });
});

describe('scaleDuration', () => {
  test.each([
    ['10m', 20, '30s'],
    ['1m', 20, '3s'],
    ['3m', 20, '9s'],
    ['5m', 20, '15s'],
    ['15m', 20, '45s'],
    ['1h', 20, '3m'],
    ['1m30s', 20, '5s'], // 4.5 s rounds up
    ['45s', 20, '3s'], // 2.25 s rounds up
    ['10s', 20, '1s'], // 0.5 s: at least 1 s
    ['500ms', 20, '1s'],
    ['0s', 20, '0s'],
    ['10m', 1, '10m'], // factor 1 keeps the text
    ['1m30s', 1, '1m30s'],
    ['10m', 7, '1m26s'], // 85.7 s rounds up
    ['1m', 2.5, '24s'],
  ])('%s / %d = %s', (text, factor, expected) => {
    expect(scaleDuration(text, factor)).toBe(expected);
  });

  test('a factor below 1 is refused', () => {
    expect(() => scaleDuration('1m', 0.5)).toThrow(/factor/);
  });

  test('formatSeconds writes compact durations', () => {
    expect([0, 1, 59, 60, 90, 3600, 3605, 5400].map(formatSeconds)).toEqual(['0s', '1s', '59s', '1m', '1m30s', '1h', '1h5s', '1h30m']);
  });
});

describe('scalePromql', () => {
  test.each([
    ['increase(x[10m])', 'increase(x[30s])'],
    ['sum by (source) (rate(x{a="b"}[5m])) / sum(rate(y[1m30s]))', 'sum by (source) (rate(x{a="b"}[15s])) / sum(rate(y[5s]))'],
    ['max_over_time(rate(x[5m])[1h:1m])', 'max_over_time(rate(x[15s])[3m:3s])'],
    ['max_over_time(rate(x[5m])[10m:])', 'max_over_time(rate(x[15s])[30s:])'],
    ['rate(x[ 5m ])', 'rate(x[ 15s ])'],
    ['x offset 10m', 'x offset 30s'],
    ['rate(x[5m] offset 1h)', 'rate(x[15s] offset 3m)'],
    ['x offset -5m', 'x offset -15s'],
    ['x offset\n  5m', 'x offset\n  15s'],
  ])('%s', (input, expected) => {
    expect(scalePromql(input, 20)).toBe(expected);
  });

  test('string literals, comments, names and labels that merely look like durations stay as written', () => {
    const expr = [
      'sum by (offset) (my_offset_total{le=~"[5m]", path=\'[10m]\', raw=`[1h]`, q="a\\"[5m]"}[10m])  # window [10m] offset 5m',
      'and offset_seconds > 5',
      'and x{offset="1m"}',
    ].join('\n');
    expect(scalePromql(expr, 20)).toBe(
      [
        'sum by (offset) (my_offset_total{le=~"[5m]", path=\'[10m]\', raw=`[1h]`, q="a\\"[5m]"}[30s])  # window [10m] offset 5m',
        'and offset_seconds > 5',
        'and x{offset="1m"}',
      ].join('\n'),
    );
  });

  test('brackets that are not durations are left alone', () => {
    expect(scalePromql('x[5]', 20)).toBe('x[5]');
    expect(scalePromql('x[$__rate_interval]', 20)).toBe('x[$__rate_interval]');
  });
});

describe('scaleRuleFile', () => {
  const file = [
    '# generated',
    'groups:',
    '  - name: g',
    '    interval: 1m',
    '    rules:',
    '      - record: job:x:increase10m',
    '        expr: sum(increase(x[10m]))',
    '      - alert: A',
    '        expr: |-',
    '          job:x:increase10m > 0',
    '          and on (source)',
    '          increase(y{le="[5m]"}[3m]) offset 1m >= 2',
    '        for: 1m',
    '        keep_firing_for: 5m',
    '        labels:',
    '          severity: page',
    '          for: later',
    '        annotations:',
    '          summary: Failing over 10m (for 1m)',
    '          description: "window [10m], rate(x[5m])"',
    '      - expr: "increase(z[2m]) > 0"',
    "        alert: B",
    "        for: '2m'",
    '      - alert: C',
    "        expr: 'x{a=''[1m]''}[1m] > 0'",
    '        keep_firing_for: 10m # comment',
    '',
  ].join('\n');

  test('scales the timing and keeps everything else byte for byte', () => {
    const scaled = scaleRuleFile(file, 20, 'test.yml').split('\n');
    expect(scaled[0]).toMatch(/^# TIME-SCALED copy of test\.yml .* divided by 20/);
    expect(scaled.slice(1)).toEqual([
      '# generated',
      'groups:',
      '  - name: g',
      '    interval: 3s',
      '    rules:',
      '      - record: job:x:increase10m',
      '        expr: sum(increase(x[30s]))',
      '      - alert: A',
      '        expr: |-',
      '          job:x:increase10m > 0',
      '          and on (source)',
      '          increase(y{le="[5m]"}[9s]) offset 3s >= 2',
      '        for: 3s',
      '        keep_firing_for: 15s',
      '        labels:',
      '          severity: page',
      '          for: later',
      '        annotations:',
      '          summary: Failing over 10m (for 1m)',
      '          description: "window [10m], rate(x[5m])"',
      '      - expr: "increase(z[6s]) > 0"',
      '        alert: B',
      "        for: '6s'",
      '      - alert: C',
      "        expr: 'x{a=''[1m]''}[3s] > 0'",
      '        keep_firing_for: 30s # comment',
      '',
    ]);
  });

  test('factor 1 returns the file unchanged', () => {
    expect(scaleRuleFile(file, 1)).toBe(file);
  });

  // The generated rule files are being edited by others: check properties, not their exact text.
  const alertsDir = path.join(__dirname, '..', '..', '..', 'grafana', 'alerts');
  const ruleFiles = [...readdirSync(alertsDir).filter((f) => f.endsWith('.yml')), 'tests/naive.rules.yml'];
  test.each(ruleFiles)('grafana/alerts/%s: only timing lines change, and every duration in them shrinks', (name) => {
    const original = readFileSync(path.join(alertsDir, name), 'utf8').split('\n');
    const scaled = scaleRuleFile(original.join('\n'), 20, name).split('\n').slice(1);
    expect(scaled).toHaveLength(original.length);
    let inExpr = false;
    let exprIndent = 0;
    for (let i = 0; i < original.length; i++) {
      const line = original[i]!;
      const indent = line.length - line.trimStart().length;
      if (inExpr && line.trim() !== '' && indent <= exprIndent) inExpr = false;
      const exprKey = /^(\s*)(-\s+)?expr:/.exec(line);
      if (exprKey) {
        inExpr = true;
        exprIndent = exprKey[1]!.length + (exprKey[2]?.length ?? 0);
      }
      const timing = /^\s*(-\s+)?(for|keep_firing_for|interval):/.test(line);
      if (scaled[i] === line) continue;
      expect({ line, timing: timing || inExpr }).toEqual({ line, timing: true });
      // Same text once the durations are blanked out.
      const blank = (text: string) => text.replace(/\d+(ms|y|w|d|h|m|s)(\d+(ms|y|w|d|h|m|s))*/g, 'D');
      expect(blank(scaled[i]!)).toBe(blank(line));
    }
  });

  test('the purchase alert gets the drill timing at factor 20', () => {
    const scaled = scaleRuleFile(readFileSync(path.join(alertsDir, 'orders.yml'), 'utf8'), 20);
    const rule = scaled.slice(scaled.indexOf('- alert: PizzaPurchaseFailures'));
    const body = rule.slice(0, rule.indexOf('- alert:', 10));
    expect(body).toMatch(/\n\s+for: 3s\n/);
    expect(body).toMatch(/\n\s+keep_firing_for: 15s\n/);
    expect(scaled).toMatch(/increase\(pizza_purchases_total\[30s\]\)/);
    expect(scaled).not.toMatch(/increase\(pizza_purchases_total\[10m\]\)/);
  });
});

describe('scaleNotificationDuration (Alertmanager timing, Prometheus resend delay)', () => {
  test.each([
    ['10s', 20, '500ms'], // group_wait: finer than the rules' whole seconds
    ['30s', 20, '1s500ms'],
    ['5m', 20, '15s'], // group_interval
    ['4h', 20, '12m'], // page repeat_interval
    ['24h', 20, '1h12m'], // ticket repeat_interval
    ['1m', 20, '3s'], // Prometheus' resend delay
    ['30s', 30, '1s'],
    ['1m', 30, '2s'],
    ['10s', 30, '400ms'], // 333 ms rounds up to 100 ms steps
    ['1s', 120, '100ms'], // at least 100 ms
    ['0s', 20, '0s'],
    ['30s', 1, '30s'], // factor 1 keeps the text
    ['4h', 1, '4h'],
  ])('%s at factor %d is %s', (text, factor, expected) => {
    expect(scaleNotificationDuration(text, factor)).toBe(expected);
    // Never shorter than the exact quotient (a scaled wait never fires early), never 100 ms longer.
    const exact = parseDuration(text) / factor;
    expect(parseDuration(expected)).toBeGreaterThanOrEqual(exact);
    expect(parseDuration(expected)).toBeLessThan(Math.max(exact, 100) + 100);
  });

  test('refuses factors below 1 and non-durations', () => {
    expect(() => scaleNotificationDuration('30s', 0.5)).toThrow(/factor/);
    expect(() => scaleNotificationDuration('soon', 20)).toThrow(/not a Prometheus duration/);
  });

  test.each([
    [0, '0s'],
    [100, '100ms'],
    [1500, '1s500ms'],
    [60_000, '1m'],
    [4_320_000, '1h12m'],
  ])('formatMilliseconds(%d) is %s', (ms, text) => {
    expect(formatMilliseconds(ms)).toBe(text);
  });
});

describe('addRuleLabels', () => {
  const file = [
    'groups:',
    '  - name: anti-examples-test-only',
    '    interval: 1m',
    '    rules:',
    '      - alert: NaivePizzaPurchaseFailures',
    '        expr: increase(pizza_purchases_total{outcome="failure"}[1m]) > 0',
    '        labels:',
    '          anti_example: "true"',
    '      - alert: Other',
    '        expr: vector(1)',
    '',
  ].join('\n');

  test('adds labels to the named rule only, keeping its own', () => {
    const out = addRuleLabels(file, 'NaivePizzaPurchaseFailures', { severity: 'page', team: 'pizza-oncall' });
    expect(out.split('\n').slice(6, 11)).toEqual(['        labels:', '          anti_example: "true"', '          severity: "page"', '          team: "pizza-oncall"', '      - alert: Other']);
    expect(out.split('\n').slice(11)).toEqual(['        expr: vector(1)', '']);
  });

  test('creates the labels block when the rule has none, and replaces a label of the same name', () => {
    const out = addRuleLabels(file, 'Other', { severity: 'ticket' });
    expect(out.endsWith('      - alert: Other\n        expr: vector(1)\n        labels:\n          severity: "ticket"\n')).toBe(true);
    const twice = addRuleLabels(addRuleLabels(file, 'Other', { severity: 'ticket' }), 'Other', { severity: 'page' });
    expect(twice.match(/severity/g)).toHaveLength(1);
    expect(twice).toContain('severity: "page"');
  });

  test('the naive anti-example, labelled as a page, still scales and passes as a rule file', () => {
    const naive = readFileSync(path.join(__dirname, '..', '..', '..', 'grafana', 'alerts', 'tests', 'naive.rules.yml'), 'utf8');
    const out = scaleRuleFile(addRuleLabels(naive, 'NaivePizzaPurchaseFailures', { severity: 'page', team: 'pizza-oncall' }), 20);
    expect(out).toContain('severity: "page"');
    expect(out).toContain('increase(pizza_purchases_total{outcome="failure"}[3s]) > 0');
  });

  test('an alert that is not in the file is an error', () => {
    expect(() => addRuleLabels(file, 'Missing', { severity: 'page' })).toThrow(/Missing is not in the rule file/);
  });
});
