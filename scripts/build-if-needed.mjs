// `npm start` and `npm test` on a fresh clone: compile once, then reuse dist/ until a source file is newer
// (the tracing and production-process tests run the built service).
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const entry = 'dist/server.js';
if (!existsSync(entry) || newestMtime('src') > statSync(entry).mtimeMs) {
  console.error('building dist/ ...');
  execSync('npx tsc -p tsconfig.build.json', { stdio: 'inherit' });
}
