// One suite, several projects. The component suite runs once per database backend:
// always on embedded SQLite, and on MariaDB/MySQL when TEST_MYSQL_URL is set.
// In CI (CI=true) the MySQL run is mandatory: a missing TEST_MYSQL_URL fails the run instead of skipping.
//
// The rule for tests that need a real component this machine may not have (Redis, redis-server, mariadbd,
// nginx, Alertmanager): a test that cannot run never passes. Without the component it is registered as
// skipped, with a warning naming what is missing; under CI=true it fails instead. Never an early `return` in
// a test body (that shows as a pass): decide when the file loads, with test/helpers/requirements.ts
// (`requiring(...)`). promtool, Prometheus and the game day's Alertmanager are required everywhere.
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest'] };
const base = { transform, testEnvironment: 'node', rootDir: __dirname };

if (process.env.CI === 'true' && !process.env.TEST_MYSQL_URL) {
  throw new Error('CI=true but TEST_MYSQL_URL is not set: the MySQL component suite is mandatory in CI');
}

const backendSuites = ['<rootDir>/test/component/**/*.test.ts', '<rootDir>/test/security/**/*.test.ts'];

const projects = [
  { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
  { ...base, displayName: 'sqlite', testMatch: backendSuites, setupFiles: ['<rootDir>/test/setup/sqlite.ts'] },
  // The same suites with tracing on and every span searched for secrets and user data (test/setup/spanScan.ts).
  { ...base, displayName: 'traced', testMatch: backendSuites, setupFiles: ['<rootDir>/test/setup/tracing.ts'], setupFilesAfterEnv: ['<rootDir>/test/setup/spanScan.ts'] },
  { ...base, displayName: 'grafana', testMatch: ['<rootDir>/test/grafana/**/*.test.ts'] },
  { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts', '<rootDir>/test/faults/**/*.test.ts'] },
];
if (process.env.TEST_MYSQL_URL) {
  projects.push({ ...base, displayName: 'mysql', testMatch: backendSuites, setupFiles: ['<rootDir>/test/setup/mysql.ts'] });
}

module.exports = { projects, testTimeout: 30000, maxWorkers: 2 };
