import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ALERTS_DIR } from './metricNames';
import { findPromtool, PROMTOOL_MISSING_MESSAGE, runPromtool } from './promtool';

const TESTS_DIR = join(ALERTS_DIR, 'tests');
const ruleFiles = [
  ...readdirSync(ALERTS_DIR).filter((f) => f.endsWith('.yml')).map((f) => join(ALERTS_DIR, f)),
  ...readdirSync(TESTS_DIR).filter((f) => f.endsWith('.rules.yml')).map((f) => join(TESTS_DIR, f)),
];
const testFiles = readdirSync(TESTS_DIR).filter((f) => f.endsWith('.test.yml')).map((f) => join(TESTS_DIR, f));

describe('promtool', () => {
  test('is installed (a missing promtool fails the suite: the alert tests are not optional)', () => {
    if (!findPromtool()) throw new Error(PROMTOOL_MISSING_MESSAGE);
  });

  test('when PROMTOOL points nowhere, then the failure message says how to install it', () => {
    expect(findPromtool({ PROMTOOL: '/nonexistent/promtool', PATH: '' })).toBeNull();
    expect(PROMTOOL_MISSING_MESSAGE).toMatch(/apt-get install prometheus/);
  });

  test('there are rule files and rule test files to check', () => {
    expect(ruleFiles.length).toBeGreaterThanOrEqual(5);
    expect(testFiles.length).toBeGreaterThanOrEqual(7);
  });

  test.each(ruleFiles)('promtool check rules %s', async (file) => {
    const result = await runPromtool(['check', 'rules', file]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.code).toBe(0);
  });

  test.each(testFiles)('promtool test rules %s', async (file) => {
    const result = await runPromtool(['test', 'rules', file], TESTS_DIR);
    if (result.code !== 0) throw new Error(`promtool test rules ${file} failed:\n${result.output.slice(0, 8000)}`);
    expect(result.output).toMatch(/SUCCESS/);
  });
});
