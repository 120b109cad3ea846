import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERTMANAGER_CONFIG_PATH, alertmanagerConfigYaml, INHIBITIONS, routingTable } from '../../grafana/src/alertmanager';
import {
  ALERT_CATALOGUE_PATH,
  ALERT_TABLE_BEGIN,
  alertCatalogueOutput,
  INHIBITION_TABLE_BEGIN,
  inhibitionTableMarkdown,
  PAGE_DELAY_BEGIN,
  pageDelayMarkdown,
  RUNBOOK_CONDITION_BEGIN,
  renderOutputs,
  REPOSITORY_ROOT,
  ROUTING_TREE_BEGIN,
  routingTreeMarkdown,
  runbookOutputs,
  staleOutputs,
} from '../../grafana/src/outputs';
import { allAlerts, HTTP_LATENCY_P99_HIGH } from '../../grafana/src/rules/definitions';
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

describe('the routing tree, page delay and inhibition table of docs/alerts.md (generated from the Alertmanager configuration)', () => {
  const readRepository = (path: string) => readFileSync(join(REPOSITORY_ROOT, path), 'utf8');
  const only = (content: string) => new Map([[ALERT_CATALOGUE_PATH, content]]);

  /** A scratch copy of the object that writes alertmanager.yml, with another group_wait on the root route. */
  function withGroupWait(groupWait: string): ReturnType<typeof alertmanagerConfigYaml> {
    const config = alertmanagerConfigYaml();
    return { ...config, route: { ...(config.route as Record<string, YamlValue>), group_wait: groupWait } };
  }

  test('each block is among the generated outputs, between its markers', () => {
    const catalogue = renderOutputs().get(ALERT_CATALOGUE_PATH) as string;
    expect(catalogue).toContain(`${ROUTING_TREE_BEGIN}\n${routingTreeMarkdown()}\n`);
    expect(catalogue).toContain(`${PAGE_DELAY_BEGIN}\n${pageDelayMarkdown()}\n`);
    expect(catalogue).toContain(`${INHIBITION_TABLE_BEGIN}\n${inhibitionTableMarkdown()}\n`);
  });

  test('the routing tree shows every receiver, matcher and timing of the committed alertmanager.yml', () => {
    type Route = { receiver: string; matchers?: string[]; group_by?: string[]; group_wait?: string; group_interval?: string; repeat_interval?: string; routes?: Route[] };
    const { route } = parseYaml(readRepository(ALERTMANAGER_CONFIG_PATH)) as { route: Route };
    const tree = routingTreeMarkdown();
    for (const node of [route, ...(route.routes ?? [])]) {
      expect(tree).toContain(`receiver ${node.receiver}`);
      if (node.matchers) expect(tree).toContain(`{${node.matchers.join(', ')}}`);
      for (const setting of ['group_wait', 'group_interval', 'repeat_interval'] as const) if (node[setting] !== undefined) expect(tree).toContain(`${setting} ${node[setting]}`);
    }
    expect(tree).toContain(`group_by [${(route.group_by ?? []).join(', ')}]`);
  });

  test('the inhibition table has one row per inhibition, with its why', () => {
    const table = inhibitionTableMarkdown();
    for (const { source, targets, why } of INHIBITIONS) expect(table).toContain(`| ${source.alert} | ${targets.map((t) => t.alert).join(', ')} | ${why} |`);
  });

  test('when a copy of the Alertmanager configuration changes group_wait, then the check reports docs/alerts.md, with the tree and the page delay changed', () => {
    expect(staleOutputs(only(alertCatalogueOutput()))).toEqual([]);
    const current = String((alertmanagerConfigYaml().route as Record<string, YamlValue>).group_wait);
    const changed = current === '20s' ? '25s' : '20s';
    const content = alertCatalogueOutput(readRepository, withGroupWait(changed));
    expect(staleOutputs(only(content))).toEqual([ALERT_CATALOGUE_PATH]);
    expect(content).toContain(`group_wait ${changed}`);
    expect(content).not.toContain(`group_wait ${current} `);
    expect(pageDelayMarkdown(withGroupWait(changed))).not.toBe(pageDelayMarkdown());
    expect(content).toContain(pageDelayMarkdown(withGroupWait(changed)));
  });

  test('the page delay adds up: a group_wait 10 s longer makes both ends 10 s later', () => {
    const ends = (text: string) => /pages (\d+)m(\d+)s to (\d+)m(\d+)s/.exec(text)?.slice(1).map(Number) ?? [];
    const [bestMin, bestSec, worstMin, worstSec] = ends(pageDelayMarkdown(withGroupWait('10s')));
    const [bestMin2, bestSec2, worstMin2, worstSec2] = ends(pageDelayMarkdown(withGroupWait('20s')));
    expect(bestMin2 * 60 + bestSec2 - (bestMin * 60 + bestSec)).toBe(10);
    expect(worstMin2 * 60 + worstSec2 - (worstMin * 60 + worstSec)).toBe(10);
  });

  test('when a copy of INHIBITIONS changes a target, then the check reports docs/alerts.md', () => {
    const changed = INHIBITIONS.map((inhibition) => (inhibition.source.alert === 'DatabaseNotReady' ? { ...inhibition, targets: [HTTP_LATENCY_P99_HIGH] } : inhibition));
    const content = alertCatalogueOutput(readRepository, alertmanagerConfigYaml(), changed);
    expect(staleOutputs(only(content))).toEqual([ALERT_CATALOGUE_PATH]);
    expect(content).toContain(`| DatabaseNotReady | ${HTTP_LATENCY_P99_HIGH.alert} |`);
  });

  test.each([ALERT_TABLE_BEGIN, ROUTING_TREE_BEGIN, PAGE_DELAY_BEGIN, INHIBITION_TABLE_BEGIN])('when docs/alerts.md lacks %s, then generating and checking fail, naming it', (begin) => {
    const withoutMarker = (path: string) => (path === ALERT_CATALOGUE_PATH ? readRepository(path).replace(begin, '') : readRepository(path));
    expect(() => renderOutputs(withoutMarker)).toThrow(`${ALERT_CATALOGUE_PATH} lacks the ${begin}`);
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
