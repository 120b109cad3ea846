// Writes grafana/alerts, grafana/dashboards, grafana/provisioning, the generated blocks of docs/alerts.md
// (alert table, routing tree, page delay, inhibitions) and the condition block of each runbook (docs/runbooks/).
//   npx tsx grafana/src/generate.ts           write the files
//   npx tsx grafana/src/generate.ts --check   exit 1 and list the files that are out of date

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderOutputs, REPOSITORY_ROOT, staleOutputs } from './outputs';

function main(argv: string[]): number {
  const check = argv.includes('--check');
  // Throws when a partly generated file (docs/alerts.md, a runbook) lacks its markers, in both modes.
  const outputs = renderOutputs();
  const stale = staleOutputs(outputs);
  if (check && stale.length > 0) {
    console.error(`Out of date (run npx tsx grafana/src/generate.ts):\n  ${stale.join('\n  ')}`);
    return 1;
  }
  if (!check) {
    for (const path of stale) {
      const absolute = join(REPOSITORY_ROOT, path);
      mkdirSync(dirname(absolute), { recursive: true });
      writeFileSync(absolute, outputs.get(path) as string);
    }
  }
  console.log(stale.length === 0 ? 'grafana: generated files are up to date' : `grafana: wrote ${stale.join(', ')}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
