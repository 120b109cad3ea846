/**
 * The machine's bcrypt ceiling: as many bcrypt.compare calls at BCRYPT_ROUNDS as the libuv thread pool
 * runs at once, for BCRYPT_SECONDS. Login can never beat this number; it prints one JSON line.
 */
import os from 'node:os';
import bcrypt from 'bcrypt';

async function main(): Promise<void> {
  const rounds = Number(process.env.BCRYPT_ROUNDS ?? 10);
  const seconds = Number(process.env.BCRYPT_SECONDS ?? 3);
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const hash = await bcrypt.hash('bench-password', rounds);
  await bcrypt.compare('bench-password', hash);
  let done = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: threads }, async () => {
      while (performance.now() < deadline) {
        await bcrypt.compare('bench-password', hash);
        done += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ rounds, threads, cores: os.cpus().length, comparesPerSecond: done / elapsed, msPerCompare: (elapsed * 1000 * Math.min(threads, os.cpus().length)) / done }));
}

void main();
