// How the project writes and reads YAML: the `yaml` package with fixed options, so every generated
// file is byte-for-byte reproducible and means the same to promtool, Prometheus and Alertmanager (Go
// readers with YAML 1.1 habits), Grafana, and our own tests (YAML 1.2).

import { isDeepStrictEqual } from 'node:util';
import { parse, stringify, type CreateNodeOptions, type DocumentOptions, type ParseOptions, type SchemaOptions, type ToStringOptions } from 'yaml';

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };
export type YamlMap = { [key: string]: YamlValue };

const WRITE_OPTIONS: CreateNodeOptions & DocumentOptions & SchemaOptions & ToStringOptions = {
  // Quote every string a YAML 1.1 reader would take for something else (yes, on, y, 0755, 1:30).
  version: '1.1',
  // The same object used twice is written twice, never as an anchor and an alias.
  aliasDuplicateObjects: false,
  // Long PromQL expressions and annotations stay on one line; multi-line strings are `|` blocks.
  lineWidth: 0,
  blockQuote: 'literal',
  indent: 2,
  indentSeq: true,
  // Keys in the order the TypeScript builds them.
  sortMapEntries: false,
};

const READ_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = { uniqueKeys: true, strict: true, prettyErrors: true };

/** The path of the first value where `actual` differs from `expected` ('' for the root), or undefined. `undefined` entries count as absent. */
function firstDifference(actual: unknown, expected: unknown, path = ''): string | undefined {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return path;
    for (let i = 0; i < expected.length; i++) {
      const where = firstDifference(actual[i], expected[i], `${path}[${i}]`);
      if (where !== undefined) return where;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return path;
    const keys = Object.entries(expected).flatMap(([key, value]) => (value === undefined ? [] : [key]));
    if (!isDeepStrictEqual(Object.keys(actual), keys)) return path;
    for (const key of keys) {
      const where = firstDifference((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (where !== undefined) return where;
    }
    return undefined;
  }
  return Object.is(actual, expected) ? undefined : path;
}

/**
 * Serialises a mapping as block YAML, optionally under a `#` comment header; `undefined` values are
 * left out. Throws if the text would read back as different data under YAML 1.1 or 1.2 (a string
 * such as `0o17` that one of them takes for a number), so no generated file depends on the reader.
 */
export function toYaml(document: Readonly<Record<string, unknown>>, headerComment?: string): string {
  const text = stringify(document, WRITE_OPTIONS);
  for (const version of ['1.1', '1.2'] as const) {
    const where = firstDifference(parse(text, { ...READ_OPTIONS, version }), document);
    if (where !== undefined) throw new Error(`YAML: ${where || 'the document'} reads back as different data under YAML ${version}`);
  }
  const header = headerComment ? headerComment.split('\n').map((line) => (line ? `# ${line}\n` : '#\n')).join('') : '';
  return header + text;
}

/** Reads one YAML document (YAML 1.2); throws with a line and column on a syntax error or a duplicate key. */
export function parseYaml(source: string): YamlValue {
  return parse(source, READ_OPTIONS) as YamlValue;
}
