// After each file of the `traced` project: spans were recorded (requests and SQL), and no span may hold a
// secret, a token, a password or a value that went into SQL. The component tests make their users,
// passwords and names with unique(), which puts the process id and a base-36 time in each, so any of them in
// a span is found without listing them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { FACTORY_ADMIN_KEY, FACTORY_API_KEY } from '../helpers/app';

const ROOT = join(__dirname, '..', '..');
const SRC = join(ROOT, 'src');
// Files that call the app's modules directly and never send it a request: no span is made there (SQL is
// traced inside a request only), so an empty scan is expected. Keep this list short.
const SENDS_NO_REQUEST = new Set(['test/component/compileOnce.test.ts']);
function sources(dir: string): string {
  return readdirSync(dir).map((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : readFileSync(path, 'utf8');
  }).join('\n');
}

afterAll(() => {
  const exporter = (globalThis as { spanExporter?: InMemorySpanExporter }).spanExporter;
  if (!exporter) throw new Error('test/setup/tracing.ts did not run');
  const spans = exporter.getFinishedSpans();
  // An empty scan proves nothing: if tracing stopped recording, this file would pass with nothing searched.
  // A file that sends requests through the app must leave request spans and SQL spans.
  const file = relative(ROOT, expect.getState().testPath ?? '');
  if (!SENDS_NO_REQUEST.has(file)) {
    const requestSpans = spans.filter((span) => span.kind === SpanKind.SERVER && typeof span.attributes['http.request.method'] === 'string');
    const sqlSpans = spans.filter((span) => typeof span.attributes['db.query.text'] === 'string');
    expect({ file, requestSpans: requestSpans.length > 0, sqlSpans: sqlSpans.length > 0 }).toEqual({ file, requestSpans: true, sqlSpans: true });
  }
  const secrets = ['test-secret-that-is-long-enough-for-hs256-0123456789', FACTORY_API_KEY, FACTORY_ADMIN_KEY];
  const uniqueValue = new RegExp(`${process.pid}[0-9a-z]{7,}`);
  let code: string | undefined;
  const problems: string[] = [];
  for (const span of spans) {
    const strings = [span.name, span.status.message ?? '', ...Object.values(span.attributes), ...span.events.flatMap((e) => [e.name, ...Object.values(e.attributes ?? {})])]
      .flat()
      .filter((value): value is string => typeof value === 'string');
    for (const value of strings) {
      const where = `${span.name}: ${value.slice(0, 120)}`;
      if (secrets.some((secret) => value.includes(secret))) problems.push(`a secret in ${where}`);
      if (uniqueValue.test(value)) problems.push(`a test value (name, email, password...) in ${where}`);
      if (/eyJ[\w-]+\.eyJ[\w-]+/.test(value)) problems.push(`a JWT in ${where}`);
      if (/\$2[aby]\$\d\d\$/.test(value)) problems.push(`a bcrypt hash in ${where}`);
      if (/bearer\s+\S/i.test(value)) problems.push(`a bearer credential in ${where}`);
    }
    // A statement's quoted literals must come from our code: a literal that is not in src/ is a value.
    const statement = span.attributes['db.query.text'];
    if (typeof statement === 'string') {
      for (const [literal] of statement.matchAll(/'(?:[^']|'')*'/g)) {
        code ??= sources(SRC);
        if (!code.includes(literal)) problems.push(`a literal ${literal} in ${statement.slice(0, 160)}`);
      }
    }
  }
  exporter.reset();
  expect(problems).toEqual([]);
});
