import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT_CATALOGUE_PATH, REPOSITORY_ROOT } from '../../grafana/src/outputs';
import { restatedNumbers, section as sectionOf, withoutGeneratedBlocks, type AllowList } from './proseNumbers';

// The prose of docs/alerts.md says why; thresholds, windows and the Alertmanager timing are in its
// generated blocks (alert table, routing tree, page delay, inhibition table), as in the runbooks.

/** Numbers in the checked sections that are history, not a configured value, with where they come from. */
const HISTORY: AllowList = [
  ['bursts of failures with no traffic in between, 45 minutes', 'the 2025-11-26 incident timeline'],
  ['`increase(...[1m]) > 0`', 'the naive rule the incident test compares against, not ours'],
  ['**seven pages** in 45 minutes', 'the 2025-11-26 incident'],
  ['missed its 3-minute budget', "a game day result (the budget is the game day's, scripts/gameday/verdict.ts)"],
  ['(45 minutes, so one page per incident)', 'the longest fault on record'],
  ['The Grafana policy said 1 hour before; scaled 20× for the game day that is 3 minutes', 'the notification policy before this one'],
];

/** The hand-written sections around the generated blocks: the rules' design, and routing, timing and inhibition. */
const CHECKED_SECTIONS = ['## Design rules (each one proven by a rule test)', '### Routing tree', '### Timing, and why', '### Inhibition', '### Grafana Cloud IRM'];

const markdown = readFileSync(join(REPOSITORY_ROOT, ALERT_CATALOGUE_PATH), 'utf8');

const section = (heading: string) => sectionOf(markdown, heading, ALERT_CATALOGUE_PATH);

test.each(CHECKED_SECTIONS)('"%s" of docs/alerts.md states no duration, percentage or count bound outside its generated blocks', (heading) => {
  expect(restatedNumbers(withoutGeneratedBlocks(section(heading)), HISTORY)).toEqual([]);
});

test('every historical phrase let through is still in a checked section (the list does not outlive its reason)', () => {
  const checked = CHECKED_SECTIONS.map((heading) => withoutGeneratedBlocks(section(heading)).replace(/\s+/g, ' ')).join('\n');
  for (const [phrase] of HISTORY) expect({ phrase, found: checked.includes(phrase) }).toEqual({ phrase, found: true });
});

test('the check catches the timing the prose used to restate', () => {
  const restated = '`group_wait: 10s`: 1m40s to 2m55s. With 30 s the worst case was 3m15s; resolves 8–13 minutes after; `repeat_interval: 4h`.';
  expect(restatedNumbers(restated, HISTORY)).toEqual(['10s', '40s', '55s', '30 s', '15s', '13 minutes', '4h']);
});
