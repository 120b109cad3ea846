// Reads jest's --json results and fails the CI run on what a green summary would hide: no test at all, or a test
// that did not run (skipped, todo, disabled) and is not on the allow-list. Under CI=true a missing component already
// fails its tests (test/helpers/requirements.ts), so the list starts empty; an entry needs its reason.
//
//   node scripts/check-test-results.mjs <results.json> [allow-list file]
//
// Allow-list lines: `<test file path, relative to the repo> :: <full test name> # reason`; `#` lines are comments.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const NOT_RUN = new Set(['pending', 'skipped', 'todo', 'disabled']);

/** The tests that did not run and are not allowed to skip, as `file :: name`. */
export function unexpectedSkips(results, allowList, root = process.cwd()) {
  const skipped = [];
  for (const file of results.testResults ?? []) {
    for (const assertion of file.assertionResults ?? []) {
      if (NOT_RUN.has(assertion.status)) skipped.push(`${relative(root, file.name)} :: ${assertion.fullName}`);
    }
  }
  return skipped.filter((entry) => !allowList.has(entry));
}

export function parseAllowList(text) {
  const entries = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const hash = line.lastIndexOf(' # ');
    if (hash < 0) throw new Error(`allow-list entry without its reason (" # why"): ${line}`);
    entries.set(line.slice(0, hash).trim(), line.slice(hash + 3).trim());
  }
  return entries;
}

export function check(results, allowList, root) {
  const problems = [];
  if (!results.numTotalTests) problems.push('no test ran');
  const skips = unexpectedSkips(results, allowList, root);
  if (skips.length) problems.push(`${skips.length} test(s) did not run and are not on the allow-list:\n  ${skips.join('\n  ')}`);
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [resultsFile, allowFile] = process.argv.slice(2);
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  const allowList = allowFile ? parseAllowList(readFileSync(allowFile, 'utf8')) : new Map();
  console.log(`${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + (results.numTodoTests ?? 0)} not run`);
  const problems = check(results, allowList);
  for (const problem of problems) console.error(problem);
  process.exit(problems.length ? 1 : 0);
}
