import { configKeys, productionRules, type ConfigKey } from './schema';

/** The documented example env file, generated from the schema so the two cannot drift. */
export function renderEnvExample(): string {
  const lines = [
    '# jwt-pizza-service configuration. Every key is optional unless noted; the value shown is the default.',
    '# Generated from src/config/schema.ts by `npm run config:example`; a test keeps it in sync.',
    '',
  ];
  for (const [key, spec] of Object.entries(configKeys)) {
    lines.push(`# ${spec.doc}`);
    const production = productionRules[key as ConfigKey];
    if (production) lines.push(`# Production: ${production.rule}`);
    lines.push(spec.default === undefined ? `# ${key}=` : `${key}=${spec.default}`);
    lines.push('');
  }
  return lines.join('\n');
}
