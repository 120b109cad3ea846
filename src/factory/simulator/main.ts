// `npm run factory`: the pizza factory simulator as a standalone server (local development and chaos drills).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { configKeys } from '../../config/schema';
import { generateSigningKey, signingKeyFromPem, signingKeyToPem, type SigningKey } from './keys';
import { startFactorySimulator } from './server';

const logger = pino({ base: { service: 'jwt-pizza-factory' } });

function requiredKey(name: string, developmentDefault: string): string {
  const value = process.env[name];
  if (value) return value;
  // A well-known key is fine on a laptop and never acceptable where real orders flow.
  if (process.env.NODE_ENV === 'production') throw new Error(`${name} must be set when NODE_ENV=production`);
  return developmentDefault;
}

function parsePort(value: string | undefined): number {
  // The same default as the service's embedded simulator: one place states it.
  const port = Number(value ?? configKeys.FACTORY_PORT.default);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`FACTORY_PORT must be a port number, got '${value}'`);
  return port;
}

// Persisting the key keeps the JWKS (and so every pizza already sold) valid across restarts.
function loadSigningKey(file: string | undefined): SigningKey {
  if (!file) return generateSigningKey();
  if (existsSync(file)) return signingKeyFromPem(readFileSync(file, 'utf8'));
  const key = generateSigningKey();
  writeFileSync(file, signingKeyToPem(key), { mode: 0o600 });
  return key;
}

// Extension: unset, CORS echoes any Origin as production does.
function corsOriginsFromEnv(): ((origin: string) => boolean) | undefined {
  const list = process.env.FACTORY_CORS_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean);
  if (!list || list.length === 0) return undefined;
  return (origin) => list.includes(origin);
}

async function main(): Promise<void> {
  const host = process.env.FACTORY_HOST ?? '127.0.0.1';
  const port = parsePort(process.env.FACTORY_PORT);
  // Extension: unset, report URLs are production's https://<Host hostname>/api/support/<key>/report/<code>.
  const publicUrl = process.env.FACTORY_PUBLIC_URL?.replace(/\/$/, '') || undefined;

  const running = await startFactorySimulator({
    host,
    port,
    apiKey: requiredKey('FACTORY_API_KEY', 'dev-factory-key'),
    adminKey: requiredKey('FACTORY_ADMIN_KEY', 'dev-factory-admin-key'),
    signingKey: loadSigningKey(process.env.FACTORY_KEY_FILE),
    ...(publicUrl ? { publicUrl: () => publicUrl } : {}),
    corsOrigins: corsOriginsFromEnv(),
    logger,
  });
  logger.info({ type: 'factory', event: 'listening', url: running.url, publicUrl: publicUrl ?? 'https://<Host>', kids: running.simulator.jwks().keys.map((key) => key.kid) }, 'pizza factory simulator listening');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ type: 'factory', event: 'stopping', signal }, 'pizza factory simulator stopping');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'pizza factory simulator did not close cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  logger.fatal({ detail: error instanceof Error ? error.message : String(error) }, 'pizza factory simulator failed to start');
  process.exit(1);
});
