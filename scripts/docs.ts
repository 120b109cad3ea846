import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { generatedDocs } from './docs-render';

const check = process.argv.includes('--check');
let stale = 0;
for (const { path, content } of generatedDocs()) {
  let current: string | undefined;
  try { current = readFileSync(path, 'utf8'); } catch { current = undefined; }
  if (current === content) continue;
  if (check) { console.error(`stale: ${path} (run npm run docs)`); stale++; continue; }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  console.log(`wrote ${path}`);
}
if (stale) process.exit(1);
