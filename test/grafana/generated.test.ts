import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { routingTable } from '../../grafana/src/alertmanager';
import { RUNBOOK_CONDITION_BEGIN, renderOutputs, REPOSITORY_ROOT, runbookOutputs, staleOutputs } from '../../grafana/src/outputs';
import { allAlerts } from '../../grafana/src/rules/definitions';
import { runbookPath, type AlertingRule } from '../../grafana/src/rules/model';
import { parseYaml, toYaml, type YamlValue } from '../../grafana/src/yamlFile';

describe('generated grafana files', () => {
  const outputs = renderOutputs();

  test.each([...outputs.keys()])('%s is up to date with grafana/src (run: npx tsx grafana/src/generate.ts)', (path) => {
    const onDisk = readFileSync(join(REPOSITORY_ROOT, path), 'utf8');
    expect(onDisk).toBe(outputs.get(path));
  });

  test.each([...outputs.keys()].filter((p) => p.endsWith('.yml')))('%s reads back as the YAML it was written from', (path) => {
    const parsed = parseYaml(outputs.get(path) as string);
    expect(parsed).not.toBeNull();
    expect(toYaml(parsed as Record<string, YamlValue>)).toBe((outputs.get(path) as string).replace(/^(#.*\n)+/, ''));
  });
});

describe('the condition block of each runbook (generated like the alert table of docs/alerts.md)', () => {
  const readRepository = (path: string) => readFileSync(join(REPOSITORY_ROOT, path), 'utf8');

  /** A scratch copy with a longer keep_firing_for. The sentence changes with it: rules.test.ts requires it to state the rule's value. */
  function withLongerKeepFiringFor(rule: AlertingRule): AlertingRule {
    const minutes = Number(/^(\d+)m$/.exec(rule.keepFiringFor ?? '')?.[1]) + 1;
    return { ...rule, keepFiringFor: `${minutes}m`, conditionInWords: rule.conditionInWords.replace(/keep_firing_for \d+ min/, `keep_firing_for ${minutes} min`) };
  }

  test('every alert has its runbook among the generated files', () => {
    const outputs = renderOutputs();
    for (const rule of allAlerts()) expect(outputs.get(runbookPath(rule))).toContain(RUNBOOK_CONDITION_BEGIN);
  });

  test('when a copy of the definitions changes keep_firing_for, then the check reports that runbook, and only it', () => {
    expect(staleOutputs(runbookOutputs())).toEqual([]);
    const original = allAlerts().find((rule) => rule.alert === 'PizzaPurchaseFailures') as AlertingRule;
    const changed = withLongerKeepFiringFor(original);
    expect(changed.conditionInWords).not.toBe(original.conditionInWords);

    const outputs = runbookOutputs(routingTable().map((row) => (row.rule === original ? { ...row, rule: changed } : row)));
    expect(staleOutputs(outputs)).toEqual([runbookPath(original)]);
    expect(outputs.get(runbookPath(original))).toContain(changed.conditionInWords);
  });

  test('when a runbook lacks the markers, then generating and checking fail, naming it', () => {
    const withoutMarkers = (path: string) => (path === 'docs/runbooks/pizza-invalid-jwt.md' ? '# PizzaInvalidJwt\n\n## What it means\n\nNo block.\n' : readRepository(path));
    expect(() => renderOutputs(withoutMarkers)).toThrow(`docs/runbooks/pizza-invalid-jwt.md lacks the ${RUNBOOK_CONDITION_BEGIN}`);
  });
});

describe('YAML files', () => {
  test('when a string would mean something else to a YAML 1.1 reader, then it is quoted and reads back as the same string', () => {
    const document = {
      expr: 'sum by (source) (rate(x{a="b"}[5m]))',
      summary: '{{ $value | humanizePercentage }} failed: see runbook #1',
      numberLike: '5',
      octal: '0755',
      sexagesimal: '1:30',
      boolLike: ['on', 'yes', 'y', 'No', 'off'],
      quotes: `it's "quoted"`,
      multiline: 'a\n  b\nc',
      empty: '',
      list: [1, 'two', { three: 3 }],
      emptyList: [],
      emptyMap: {},
      duration: '30s',
      skipped: undefined,
    };
    const text = toYaml(document);
    const { skipped, ...written } = document;
    expect(skipped).toBeUndefined();
    expect(parseYaml(text)).toEqual(written);
    expect(text).toContain('"yes"');
    expect(text).toContain('"0755"');
    expect(text).toContain('multiline: |-\n  a\n    b\n  c\n');
  });

  test('when an expression is long or an object is shared, then it is written out in full on one line, with no alias', () => {
    const labels = { severity: 'page', team: 'pizza' };
    const expr = Array.from({ length: 20 }, (_, i) => `rate(metric_${i}_total[5m])`).join(' + ');
    const text = toYaml({ first: { expr, labels }, second: { labels } });
    expect(text).toContain(`expr: ${expr}\n`);
    expect(text).not.toMatch(/[&*]a\d/);
    expect(text.match(/severity: page/g)).toHaveLength(2);
  });

  test('when a header is given, then it is a comment block above the document', () => {
    expect(toYaml({ a: 1 }, 'first\n\nthird')).toBe('# first\n#\n# third\na: 1\n');
  });

  test('when a string reads differently under YAML 1.1 and 1.2, then writing it throws', () => {
    expect(() => toYaml({ rule: { value: '0o17' } })).toThrow('rule.value reads back as different data under YAML 1.2');
  });

  test('when the input is malformed or repeats a key, then reading it fails with the line', () => {
    expect(() => parseYaml('a: 1\nb: [2\n')).toThrow(/at line 3/);
    expect(() => parseYaml('a: 1\na: 2\n')).toThrow(/keys must be unique at line 2/);
  });
});
