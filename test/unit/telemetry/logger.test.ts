import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createLogger, STDOUT_FLUSH_MS, type Logger } from '../../../src/shared/logging/logger';
import { redactSecretsInText, scrubLogLine } from '../../../src/shared/logging/redact';
import type { TelemetryLogger } from '../../../src/shared/telemetry';

const JWT_HEAD = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9';
const JWT_BODY = 'eyJpZCI6MSwibmFtZSI6ImFkbWluIn0';
const JWT_SIG = 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const JWT = `${JWT_HEAD}.${JWT_BODY}.${JWT_SIG}`;
const SECRETS = ['hunter2-pw', 'tok-abc-123', 'bearer-xyz-789', 'key-0f9e8d', 'cookie-sess-1', 'refresh-r2d2', JWT_SIG];

function captureLogger(streamCount = 0): { logger: Logger; lines: string[]; extra: string[][] } {
  const lines: string[] = [];
  const extra = Array.from({ length: streamCount }, () => [] as string[]);
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
    streams: extra.map((sink) => ({ write: (line: string) => void sink.push(line) })),
  });
  return { logger, lines, extra };
}

function expectNoSecrets(output: string) {
  for (const secret of SECRETS) expect(output).not.toContain(secret);
}

describe('createLogger redaction', () => {
  test('when objects carry secrets by key at any depth, then no line contains them', () => {
    const { logger, lines } = captureLogger();
    logger.info({ type: 'http', req: { headers: { authorization: 'Bearer bearer-xyz-789', cookie: 'cookie-sess-1' }, body: { email: 'a@b.c', password: 'hunter2-pw' } } }, 'login');
    logger.info({ user: { credentials: { nested: { password: 'hunter2-pw', refreshToken: 'refresh-r2d2' } } } }, 'deep');
    logger.info({ token: 'tok-abc-123', apiKey: 'key-0f9e8d', factory: { 'x-api-key': 'key-0f9e8d', api_key: 'key-0f9e8d' } }, 'keys');
    logger.warn({ headers: { Authorization: 'Basic aHVudGVyMi1wdw==' } }, 'mixed case header');
    logger.info({ a: { b: { c: { d: { apiKey: 98765432, sessionToken: true, pizzaJwt: JWT } } } } }, 'scalars deep down');
    logger.info({ password: { plain: 'hunter2-pw' }, token: ['tok-abc-123'] }, 'object values at the top');
    logger.info({ form: { 'PASSWORD': 'hunter2-pw', 'X-Api-Key': 'key-0f9e8d' } }, 'upper-case keys');
    const output = lines.join('');
    expectNoSecrets(output);
    expect(output).not.toContain('aHVudGVyMi1wdw==');
    expect(output).not.toContain('98765432');
    expect(output).not.toContain(JWT_BODY);
    // Emails are personal data: masked, still telling accounts apart (issue 25).
    expect(output).not.toContain('a@b.c');
    expect(output).toContain('a***@b.c');
    expect(output).toContain('[REDACTED]');
  });

  test('when a JWT or bearer token appears inside values or messages, then only the signature or token is removed', () => {
    const { logger, lines } = captureLogger();
    logger.info({ type: 'factory', response: { jwt: JWT, note: `pizza ${JWT}` } }, 'factory answered');
    logger.info({ type: 'http', path: `/api/order/verify?token=${JWT}` }, `verify ${JWT}`);
    logger.error({ err: new Error(`upstream said: Authorization: Bearer bearer-xyz-789`) }, 'boom');
    const output = lines.join('');
    expectNoSecrets(output);
    expect(output).toContain(`${JWT_HEAD}.${JWT_BODY}.[REDACTED]`);
    expect(output).toContain('Bearer [REDACTED]');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  test('when extra streams (Loki) are attached, then they receive the same redacted lines', () => {
    const { logger, lines, extra } = captureLogger(1);
    logger.info({ password: 'hunter2-pw', jwt: JWT, msg2: JWT }, 'to both');
    expect(extra[0]).toHaveLength(1);
    expect(extra[0]).toEqual(lines);
    expectNoSecrets(extra[0]!.join(''));
  });

  test('when a line holds no secrets, then it is passed through unchanged', () => {
    // The service's own name holds "jwt", and values may name secrets without holding one.
    const line = '{"level":"info","service":"jwt-pizza-service","type":"http","method":"GET","route":"/api/order/menu","status":200,"authorized":false,"msg":"missing token for the password form"}\n';
    expect(scrubLogLine(line)).toBe(line);
  });

  test('when free text holds a token, then redactSecretsInText cleans it and is idempotent', () => {
    const once = redactSecretsInText(`Authorization: bearer tok-abc-123 and ${JWT}`);
    expect(once).toBe(`Authorization: bearer [REDACTED] and ${JWT_HEAD}.${JWT_BODY}.[REDACTED]`);
    expect(redactSecretsInText(once)).toBe(once);
    expect(redactSecretsInText('missing Bearer token')).toBe('missing Bearer token');
  });

  test('a pino Logger fits the telemetry sinks logger interface', () => {
    const { logger } = captureLogger();
    const telemetryLogger: TelemetryLogger = logger;
    expect(typeof telemetryLogger.warn).toBe('function');
  });
});

describe('stdout batching', () => {
  // The real stdout destination buffers lines (one write per ~4 KB, not per line); a line must still
  // show up promptly on a quiet service, and none may be lost when the process ends.
  const LOGGER = join(__dirname, '..', '..', '..', 'src', 'shared', 'logging', 'logger.ts');

  /** Runs `script` with a logger on the real stdout; `logged()` in the script marks when it logged (on stderr). */
  function runChild(script: string): Promise<{ output: string; firstLineMsAfterLogged: number }> {
    const prelude = `const { createLogger } = require(${JSON.stringify(LOGGER)}); const logger = createLogger({ level: 'info' }); const logged = () => process.stderr.write('logged\\n');`;
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', `${prelude} ${script}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    // Both times are taken as the pipes deliver; compared once the process is gone, whichever pipe was read first.
    let loggedAt = Number.NaN;
    let firstLineAt = Number.NaN;
    child.stderr.on('data', (chunk: Buffer) => {
      if (Number.isNaN(loggedAt) && chunk.toString().includes('logged')) loggedAt = Date.now();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (Number.isNaN(firstLineAt) && output.includes('\n')) firstLineAt = Date.now();
    });
    return new Promise((resolve) => child.on('close', () => resolve({ output, firstLineMsAfterLogged: firstLineAt - loggedAt })));
  }

  test('when a quiet process logs one line, then it reaches stdout within the flush interval, not only when the process ends', async () => {
    // The process lives 6 s after logging: a line held until exit would arrive about then.
    const { output, firstLineMsAfterLogged } = await runChild(`logger.info({ type: 'test' }, 'one quiet line'); logged(); setTimeout(() => {}, 6000);`);
    expect(JSON.parse(output.split('\n')[0])).toMatchObject({ msg: 'one quiet line', type: 'test' });
    expect(firstLineMsAfterLogged).toBeLessThan(STDOUT_FLUSH_MS + 3000);
  }, 20_000);

  test('when a process logs many lines and then exits or crashes, then every line is on stdout', async () => {
    for (const ending of ['process.exit(0);', `throw new Error('boom');`]) {
      const { output } = await runChild(`for (let i = 0; i < 1000; i++) logger.info({ i }, 'line'); ${ending}`);
      const lines = output.split('\n').filter((l) => l.startsWith('{'));
      expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    }
  }, 30_000);
});
