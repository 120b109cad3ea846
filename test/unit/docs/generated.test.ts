import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configKeys } from '../../../src/config/schema';
import { generatedDocs, renderConfigReference } from '../../../scripts/docs-render';

const root = join(__dirname, '../../..');

describe('generated docs (npm run docs)', () => {
  it.each(generatedDocs().map((d) => [d.path, d.content]))('%s is up to date', (path, content) => {
    expect(readFileSync(join(root, path), 'utf8')).toBe(content);
  });

  it('fails when a default changes in a scratch copy of the schema', () => {
    const committed = readFileSync(join(root, 'docs/reference/configuration.md'), 'utf8');
    const scratch = { ...configKeys, PORT: { ...configKeys.PORT, default: '3999' } };
    expect(renderConfigReference(scratch)).not.toBe(committed);
    expect(renderConfigReference(configKeys)).toBe(committed);
  });

  it('lists every configuration key', () => {
    const table = renderConfigReference();
    for (const key of Object.keys(configKeys)) expect(table).toContain(`| \`${key}\` |`);
  });
});
