import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_EVENTS as CATALOGUED, type LogEventSpec } from '../../../src/shared/logging/events';
import { renderLogsReference } from '../../../scripts/docs/logEvents';

const root = join(__dirname, '../../..');
const CATALOGUE = 'src/shared/logging/events.ts';
const LOG_EVENTS: readonly LogEventSpec[] = CATALOGUED;

/** `type:` keys in src/ that are not log fields: JSON Schema and OpenAPI types, a key export format, the chaos kind "none". */
const NOT_LOG_FIELDS = new Set([
  'src/docs/docsRouter.ts integer',
  'src/docs/docsRouter.ts object',
  'src/docs/docsRouter.ts string',
  'src/docs/docsRouter.ts http',
  'src/factory/simulator/keys.ts pkcs8',
  'src/factory/simulator/chaos.ts none',
]);

type Written = { file: string; line: number; type: string; event?: string; level?: string };

const key = (type: string, event?: string) => (event ? `${type}/${event}` : type);

/**
 * Every `type: '...'` literal in src/, with the `event: '...'` that follows it (the convention: event right
 * after type) and, when the literal sits inside a `logger.<level>(` call, that level.
 */
function writtenInSrc(): { lines: Written[]; strayEvents: string[] } {
  const lines: Written[] = [];
  const strayEvents: string[] = [];
  const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const relative of files) {
    const file = `src/${relative.split('\\').join('/')}`;
    if (file === CATALOGUE) continue;
    const text = readFileSync(join(root, file), 'utf8');
    const lineOf = (index: number) => text.slice(0, index).split('\n').length;
    const paired = new Set<number>();
    for (const match of text.matchAll(/\btype: '(\w+)'(?!\s*as const)(,\s*event: '(\w+)')?/g)) {
      if (NOT_LOG_FIELDS.has(`${file} ${match[1]}`)) continue;
      const before = text.slice(Math.max(0, match.index - 200), match.index);
      const call = /\.(debug|info|warn|error|fatal)\(\s*\{\s*$/.exec(before);
      if (match[3]) paired.add(match.index + match[0].lastIndexOf('event:'));
      lines.push({ file, line: lineOf(match.index), type: match[1], event: match[3], level: call?.[1] });
    }
    for (const match of text.matchAll(/\bevent: '\w+'/g)) {
      if (!paired.has(match.index)) strayEvents.push(`${file}:${lineOf(match.index)}`);
    }
  }
  return { lines, strayEvents };
}

describe('log event catalogue (src/shared/logging/events.ts)', () => {
  const { lines, strayEvents } = writtenInSrc();
  const catalogue = new Map<string, LogEventSpec>(LOG_EVENTS.map((spec) => [key(spec.type, spec.event), spec]));

  it('finds the log lines in src/', () => {
    expect(lines.length).toBeGreaterThan(30);
  });

  it('lists every type/event pair a log line in src/ carries', () => {
    const missing = lines.filter((l) => !catalogue.has(key(l.type, l.event))).map((l) => `${l.file}:${l.line} ${key(l.type, l.event)}`);
    expect(missing).toEqual([]);
  });

  it('lists no pair that src/ no longer writes, and each pair once', () => {
    const written = new Set(lines.map((l) => key(l.type, l.event)));
    expect([...catalogue.keys()].filter((k) => !written.has(k))).toEqual([]);
    expect(catalogue.size).toBe(LOG_EVENTS.length);
  });

  it('has the level a logger call writes a pair at', () => {
    const wrong = lines
      .filter((l) => l.level && !catalogue.get(key(l.type, l.event))?.levels.includes(l.level as LogEventSpec['levels'][number]))
      .map((l) => `${l.file}:${l.line} ${key(l.type, l.event)} at ${l.level}`);
    expect(wrong).toEqual([]);
  });

  it('finds every event right after its type', () => {
    expect(strayEvents).toEqual([]);
  });

  it('renders docs/reference/logs.md from the catalogue, and a changed entry changes it', () => {
    const table = renderLogsReference();
    for (const spec of LOG_EVENTS) expect(table).toContain(`| \`${spec.type}\` | ${spec.event ? `\`${spec.event}\`` : '–'} | ${spec.levels.join(', ')} |`);
    const scratch = LOG_EVENTS.map((spec) => (spec.type === 'db' && spec.event ? { ...spec, meaning: 'a scratch meaning' } : spec));
    expect(renderLogsReference(scratch)).not.toBe(table);
    expect(renderLogsReference(scratch)).toContain('a scratch meaning');
  });
});
