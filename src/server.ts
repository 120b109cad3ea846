import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from './config';
import { startService } from './service';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = loadConfig(process.env, { isTty: process.stdout.isTTY });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
  const service = await startService(config, { isTty: process.stdout.isTTY });
  const stop = (signal: string) => {
    service
      .shutdown(signal)
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error('shutdown failed', error);
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('jwt-pizza-service failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
