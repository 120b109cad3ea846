// Writes grafana/alerts, grafana/dashboards, grafana/provisioning and the alert table of
// docs/alerts.md from the TypeScript definitions.
//   npx tsx grafana/src/generate.ts           write the files
//   npx tsx grafana/src/generate.ts --check   exit 1 and list the files that are out of date

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderOutputs, REPOSITORY_ROOT } from './outputs';

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const stale: string[] = [];
  for (const [path, content] of renderOutputs()) {
    const absolute = join(REPOSITORY_ROOT, path);
    const current = existsSync(absolute) ? readFileSync(absolute, 'utf8') : null;
    if (current === content) continue;
    stale.push(path);
    if (!check) {
      mkdirSync(dirname(absolute), { recursive: true });
      writeFileSync(absolute, content);
    }
  }
  if (check && stale.length > 0) {
    console.error(`Out of date (run npx tsx grafana/src/generate.ts):\n  ${stale.join('\n  ')}`);
    return 1;
  }
  console.log(stale.length === 0 ? 'grafana: generated files are up to date' : `grafana: wrote ${stale.join(', ')}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
