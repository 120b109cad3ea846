/** The smallest environment production starts with (every production rule satisfied); tests break one key at a time. */
export const productionEnv = {
  NODE_ENV: 'production',
  JWT_SECRET: 'a-production-secret-of-at-least-32-characters',
  FACTORY_URL: 'https://factory.example',
  FACTORY_API_KEY: 'vendor-key',
  DATABASE_URL: 'mysql://pizza:pw@db.internal:3306/pizza',
  METRICS_TOKEN: 'scrape-token',
  TRUST_PROXY: 'none',
};
