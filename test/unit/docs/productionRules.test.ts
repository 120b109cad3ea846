import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';
import { productionRules, type ConfigKey } from '../../../src/config/schema';
import { productionEnv } from '../../helpers/productionEnv';

const production = productionEnv;

/** One way to break each production check; a new check needs a line here (the coverage test below says so). */
const violations: Array<Record<string, string>> = [
  { JWT_SECRET: '' },
  { BCRYPT_ROUNDS: '4' },
  { FACTORY_URL: '' },
  { FACTORY_API_KEY: '' },
  { ADMIN_EMAIL: 'a@jwt.com', ADMIN_PASSWORD: 'admin' },
  { SEED_DEMO_DATA: 'true' },
  { TRUST_PROXY: '' },
  { METRICS_TOKEN: '' },
  { METRICS_PUSH_URL: 'https://push.example/api/prom/push' },
];

/** The keys named by the problems loadConfig reports for `env` (none when it loads). */
function refusedKeys(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split('\n').slice(1).map((line) => line.trim().split(/[\s:]/)[0]);
  }
}

describe('production rules (src/config/schema.ts productionRules)', () => {
  it('a complete production configuration loads', () => {
    expect(refusedKeys(production)).toEqual([]);
  });

  it.each(violations.map((change) => [Object.keys(change).join(', '), change]))('breaking %s is refused in production, naming a key that has a Production rule', (_name, change) => {
    const refused = refusedKeys({ ...production, ...change });
    expect(refused.length).toBeGreaterThan(0);
    for (const key of refused) expect(productionRules[key as ConfigKey]?.rule).toBeTruthy();
    // Outside production the same values are accepted (these are production rules, not validation).
    expect(refusedKeys({ ...production, ...change, NODE_ENV: 'test' })).toEqual([]);
  });

  it('every declared check is exercised by a violation above', () => {
    const exercised = new Set(violations.flatMap((change) => refusedKeys({ ...production, ...change })));
    const checked = Object.entries(productionRules).filter(([, spec]) => spec.refuses).map(([key]) => key);
    expect(checked.filter((key) => !exercised.has(key))).toEqual([]);
  });

  it('each rule is in the Production column of the configuration reference and in config/.env.example', () => {
    const reference = readFileSync(join(__dirname, '../../../docs/reference/configuration.md'), 'utf8');
    const example = readFileSync(join(__dirname, '../../../config/.env.example'), 'utf8');
    for (const [key, spec] of Object.entries(productionRules)) {
      expect(reference.split('\n').find((row) => row.startsWith(`| \`${key}\` |`))?.endsWith(` | ${spec.rule} |`)).toBe(true);
      expect(example).toContain(`# Production: ${spec.rule}`);
    }
  });
});
