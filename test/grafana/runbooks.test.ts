import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT, RUNBOOK_CONDITION_BEGIN } from '../../grafana/src/outputs';
import { allAlerts } from '../../grafana/src/rules/definitions';
import { runbookPath } from '../../grafana/src/rules/model';
import { restatedNumbers, RULE_LIKE_NUMBER, section, withoutGeneratedBlocks, type AllowList } from './proseNumbers';

// A runbook's prose explains its alert; the numbers of the rule (threshold, window, for, keep_firing_for,
// minimum counts) are in the generated block only, so a changed rule cannot leave a runbook saying otherwise.
// docs/alerts.md has the same check (alertsDoc.test.ts).

/** Numbers in these sections that are not facts of an alert rule, with where they come from. */
const NOT_RULE_FACTS: AllowList = [
  ['about 32 s', "the factory's throttle chaos holds a call this long"],
  ['p95 back under 1 s', 'a healthy factory, not the alert threshold'],
  ['Error ratio under 1%', 'a healthy error ratio, not the alert threshold'],
  ['*Invalid pizza JWTs (1h)*', 'a panel title'],
  ['4 minutes of failures, 2 minutes without any traffic, for 45 minutes', 'the 2025-11-26 incident timeline'],
  ['ioredis reconnects within 2 s', "the Redis client's reconnect delay"],
  ['sample age under 60 s', 'a healthy telemetry push'],
];

/** Where a restated rule number would sit: what the alert means, and when it resolves. */
const CHECKED_SECTIONS = ['What it means', 'Verify recovery'];

const runbooks = [...new Set(allAlerts().map(runbookPath))].map((path) => [path, readFileSync(join(REPOSITORY_ROOT, path), 'utf8')] as const);


describe.each(runbooks)('%s', (path, markdown) => {
  test('opens "What it means" with the generated condition block', () => {
    expect(section(markdown, '## What it means', path).startsWith(`\n## What it means\n\n${RUNBOOK_CONDITION_BEGIN}\n`)).toBe(true);
  });

  test.each(CHECKED_SECTIONS)('"%s" states no duration, percentage or count bound outside the generated block', (title) => {
    expect(restatedNumbers(withoutGeneratedBlocks(section(markdown, `## ${title}`, path)), NOT_RULE_FACTS)).toEqual([]);
  });
});

test('every phrase let through as not a rule fact is still in some runbook (the list does not outlive its reason)', () => {
  const all = runbooks.map(([, markdown]) => markdown.replace(/\s+/g, ' ')).join('\n');
  for (const [phrase] of NOT_RULE_FACTS) expect({ phrase, found: all.includes(phrase) }).toEqual({ phrase, found: true });
});

test('the check catches a restated rule number in prose', () => {
  const restated = 'It fires above 5% in a 10-minute window, with at least 2 failures, for 1m; keep_firing_for 5 min (about 8 minutes).';
  expect(restated.match(RULE_LIKE_NUMBER)).toEqual(['5%', '10-minute', 'at least 2', '1m', '5 min', '8 minutes']);
});
