import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// .ci/run hands jest's --json results to this script: a skipped or todo test fails the run unless allow-listed.

const ROOT = join(__dirname, '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'check-test-results.mjs');

function results(statuses: string[]) {
  return {
    numTotalTests: statuses.length,
    numPassedTests: statuses.filter((s) => s === 'passed').length,
    numFailedTests: 0,
    numPendingTests: statuses.filter((s) => s === 'pending').length,
    numTodoTests: statuses.filter((s) => s === 'todo').length,
    testResults: [{ name: join(ROOT, 'test', 'x.test.ts'), assertionResults: statuses.map((status, i) => ({ status, fullName: `case ${i}` })) }],
  };
}

describe('the CI check of test results', () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-results-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(statuses: string[], allowList?: string) {
    const file = join(dir, 'results.json');
    writeFileSync(file, JSON.stringify(results(statuses)));
    const args = [SCRIPT, file];
    if (allowList !== undefined) {
      writeFileSync(join(dir, 'allow'), allowList);
      args.push(join(dir, 'allow'));
    }
    return spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  }

  test('when every test ran, then it passes', () => {
    expect(run(['passed', 'passed']).status).toBe(0);
  });

  test('when a test was skipped or is a todo, then it fails naming it', () => {
    const skipped = run(['passed', 'pending', 'todo']);
    expect(skipped.status).toBe(1);
    expect(skipped.stderr).toContain('2 test(s) did not run and are not on the allow-list');
    expect(skipped.stderr).toContain('test/x.test.ts :: case 1');
    expect(skipped.stderr).toContain('test/x.test.ts :: case 2');
  });

  test('when the skipped test is on the allow-list with its reason, then it passes; without a reason the list is refused', () => {
    expect(run(['passed', 'pending'], '# comment\ntest/x.test.ts :: case 1 # needs a GPU\n').status).toBe(0);
    expect(run(['passed', 'pending'], 'test/x.test.ts :: case 1\n').stderr).toMatch(/without its reason/);
  });

  test('when no test ran, then it fails', () => {
    const none = run([]);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no test ran');
  });

  test('the committed allow-list parses', () => {
    writeFileSync(join(dir, 'results.json'), JSON.stringify(results(['passed'])));
    const committed = spawnSync(process.execPath, [SCRIPT, join(dir, 'results.json'), join(ROOT, '.ci', 'allowed-skips')], { cwd: ROOT, encoding: 'utf8' });
    expect([committed.status, committed.stderr]).toEqual([0, '']);
  });
});
