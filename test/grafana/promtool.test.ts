import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ALERTS_DIR } from './metricNames';
import { findPromtool, PROMTOOL_MISSING_MESSAGE, requirePromtool, runPromtool } from './promtool';

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

  test('when PROMTOOL points nowhere, then the rule tests fail with the message that says how to install it', () => {
    expect(findPromtool({ PROMTOOL: '/nonexistent/promtool', PATH: '' })).toBeNull();
    expect(() => requirePromtool({ PROMTOOL: '/nonexistent/promtool', PATH: '' })).toThrow(PROMTOOL_MISSING_MESSAGE);
    expect(PROMTOOL_MISSING_MESSAGE).toMatch(/apt-get install prometheus/);
  });

  test('promtool is the first executable one on the PATH, and PROMTOOL names it instead when set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'promtool-path-'));
    try {
      const onPath = join(dir, 'promtool');
      writeFileSync(onPath, '#!/bin/sh\n');
      chmodSync(onPath, 0o644);
      expect(findPromtool({ PATH: `/nonexistent${delimiter}${dir}` })).toBeNull(); // not executable
      chmodSync(onPath, 0o755);
      expect(findPromtool({ PATH: `/nonexistent${delimiter}${dir}` })).toBe(onPath);
      expect(requirePromtool({ PATH: dir })).toBe(onPath);
      // PROMTOOL wins over the PATH, taken as given (here: any executable).
      expect(findPromtool({ PROMTOOL: process.execPath, PATH: dir })).toBe(process.execPath);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
