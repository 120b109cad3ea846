import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configKeys } from '../../../src/config/schema';

const root = join(__dirname, '../../..');
const pages = ['README.md', 'SECURITY.md', ...['docs', 'docs/runbooks'].flatMap((dir) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.md')).map((f) => `${dir}/${f}`))];

describe('hand-written docs link to the configuration reference instead of restating a default', () => {
  it.each(pages)('%s', (page) => {
    const text = readFileSync(join(root, page), 'utf8');
    // `KEY` (10 s), `KEY`, 45 s, `KEY` 8 s: a number right after a key's name repeats its default (and drifts from it).
    // In a table, `KEY` | `8` does the same. A value a deployment or a test sets is written `KEY=value`.
    const restated = Object.keys(configKeys).flatMap((key) => [...text.matchAll(new RegExp(`\`${key}\`(?:[ ,(]{1,3}|\\s*\\|\\s*\`?)\\d[^\\n]{0,12}`, 'g'))].map((m) => m[0]));
    expect(restated).toEqual([]);
  });
});
