import pino, { type DestinationStream, type Logger } from 'pino';
import { scrubLogLine } from './redact';

export type { Logger };

/**
 * Paths pino censors before a line is written anywhere (stdout or Loki). Keys that hold secrets are
 * redacted wherever they appear one or two levels deep; values that merely *contain* a secret
 * (a report URL with the API key) are cleaned where they are logged, by the factory client.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  '*.*.token',
  'jwt',
  '*.jwt',
  '*.*.jwt',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
];

export interface LoggerOptions {
  level: string;
  pretty?: boolean;
  service?: string;
  env?: string;
  /** Extra destinations (e.g. the Loki pusher) written beside stdout. */
  streams?: DestinationStream[];
  /** Replaces stdout; tests capture lines with it. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { service: options.service ?? 'jwt-pizza-service', env: options.env };
  const pinoOptions = {
    level: options.level,
    base,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Secrets inside values (JWT signatures, bearer tokens) and secret-named keys deeper than the paths
    // above; runs once per serialized line, before it reaches stdout or Loki.
    hooks: { streamWrite: scrubLogLine },
  };
  const stdout: DestinationStream = options.destination
    ?? (options.pretty ? (pino.transport({ target: 'pino-pretty', options: { colorize: true } }) as DestinationStream) : pino.destination({ sync: false }));
  const streams = [{ stream: stdout, level: options.level as pino.Level }, ...(options.streams ?? []).map((stream) => ({ stream, level: options.level as pino.Level }))];
  return pino(pinoOptions, streams.length === 1 ? stdout : pino.multistream(streams));
}
