import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The rule of test/helpers/requirements.ts, checked on a fixture run by a jest of its own: a test that
// cannot run shows as skipped outside CI and fails under CI=true; it never shows as passed.

const ROOT = join(__dirname, '..', '..', '..');
const config = {
  rootDir: ROOT,
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/fixtures/requirements/guarded.fixture.ts'],
};

interface Outcome {
  passed: string[];
  skipped: string[];
  failed: { title: string; messages: string }[];
  stderr: string;
}

function runFixture(env: Record<string, string>): Outcome {
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--config', JSON.stringify(config), '--json', '--runInBand'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const report = JSON.parse(run.stdout) as { testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[] };
  const results = report.testResults.flatMap((file) => file.assertionResults);
  return {
    passed: results.filter((r) => r.status === 'passed').map((r) => r.title),
    skipped: results.filter((r) => r.status === 'pending').map((r) => r.title),
    failed: results.filter((r) => r.status === 'failed').map((r) => ({ title: r.title, messages: r.failureMessages.join('\n') })),
    stderr: run.stderr,
  };
}

describe('requiring(): a test that cannot run never passes', () => {
  test('when the component is there, then the guarded tests run', () => {
    const outcome = runFixture({ FIXTURE_AVAILABLE: '1' });
    expect(outcome.passed.sort()).toEqual(['a test that needs nothing', 'a test that needs the component', 'first', 'second']);
    expect(outcome.skipped).toEqual([]);
    expect(outcome.failed).toEqual([]);
  });

  test('when it is not, outside CI, then the guarded tests show as skipped, with a warning naming what is missing', () => {
    const outcome = runFixture({ FIXTURE_AVAILABLE: '0' });
    expect(outcome.passed).toEqual(['a test that needs nothing']);
    expect(outcome.skipped.sort()).toEqual(['a test that needs the component', 'first', 'second']);
    expect(outcome.failed).toEqual([]);
    expect(outcome.stderr).toContain('the fixture component is not there: tests that need it are skipped (they fail under CI=true)');
  });

  test('when it is not, under CI=true, then every guarded test fails naming what is missing', () => {
    const outcome = runFixture({ FIXTURE_AVAILABLE: '0', CI: 'true' });
    expect(outcome.passed).toEqual(['a test that needs nothing']);
    expect(outcome.skipped).toEqual([]);
    expect(outcome.failed.map((f) => f.title).sort()).toEqual(['a test that needs the component', 'first', 'second']);
    for (const { messages } of outcome.failed) {
      expect(messages).toContain('CI=true but the fixture component is not there: these tests are mandatory in CI');
      // The block's own set-up and tear-down (which would need the component) were not run.
      expect(messages).not.toMatch(/set-up ran|tear-down ran/);
    }
    expect(outcome.stderr).not.toMatch(/set-up ran|tear-down ran/);
  });
});
