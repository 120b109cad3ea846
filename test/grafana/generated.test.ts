import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOutputs, REPOSITORY_ROOT } from '../../grafana/src/outputs';
import { parseYaml, toYaml } from '../../grafana/src/yaml';

describe('generated grafana files', () => {
  const outputs = renderOutputs();

  test.each([...outputs.keys()])('%s is up to date with grafana/src (run: npx tsx grafana/src/generate.ts)', (path) => {
    const onDisk = readFileSync(join(REPOSITORY_ROOT, path), 'utf8');
    expect(onDisk).toBe(outputs.get(path));
  });

  test.each([...outputs.keys()].filter((p) => p.endsWith('.yml')))('%s reads back as the YAML it was written from', (path) => {
    const parsed = parseYaml(outputs.get(path) as string);
    expect(parsed).not.toBeNull();
    expect(toYaml(parsed as Record<string, never>)).toBe((outputs.get(path) as string).replace(/^(#.*\n)+/, ''));
  });
});

describe('the YAML writer and reader', () => {
  test('when a value needs quoting, then it round-trips as the same string', () => {
    const document = {
      plain: 'sum by (source) (rate(x{a="b"}[5m]))',
      template: '{{ $value | humanizePercentage }} failed: see runbook',
      numberLike: '5',
      boolLike: 'on',
      quotes: `it's "quoted"`,
      multiline: 'a\n  b\nc',
      empty: '',
      list: [1, 'two', { three: 3 }],
      emptyList: [],
      emptyMap: {},
      duration: '30s',
    };
    expect(parseYaml(toYaml(document))).toEqual(document);
  });

  test('when the input uses syntax outside the subset, then it fails with a line number', () => {
    expect(() => parseYaml('a: {b: 1}\n')).toThrow(/line 1/);
    expect(() => parseYaml('a: 1\n  b: 2\n')).toThrow(/line 2/);
    expect(() => parseYaml('a: 1\na: 2\n')).toThrow(/duplicate key a/);
  });
});
