// Must stay the first import: it starts the tracing SDK before the modules it instruments are used.
import './shared/tracing/register';
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { clusterWorkerMetrics, joinCluster, startClusterPrimary } from './cluster';
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
  if (cluster.isPrimary && config.webConcurrency > 1) {
    const primary = await startClusterPrimary(config);
    const stopCluster = (signal: string) => void primary.shutdown(signal).then((code) => process.exit(code));
    process.once('SIGTERM', () => stopCluster('SIGTERM'));
    process.once('SIGINT', () => stopCluster('SIGINT'));
    return;
  }
  const service = await startService(config, { isTty: process.stdout.isTTY, ...(cluster.isWorker ? { metricsText: clusterWorkerMetrics() } : {}) });
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
  if (cluster.isWorker) joinCluster(service.ctx.metrics.registry);
}

main().catch((error: unknown) => {
  console.error('jwt-pizza-service failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
