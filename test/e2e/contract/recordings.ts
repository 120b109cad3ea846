// The recorded exchanges with the production factory (test/fixtures/factory-contract), read as data.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** As sent: an object, or a string when the recording sent a malformed body. */
  body?: unknown;
}

export interface RecordedResponse {
  status: number;
  headers: Record<string, string>;
  body: { message?: string; jwt?: string; reportUrl?: string; [key: string]: unknown };
}

export interface Recording {
  name: string;
  description: string;
  request: RecordedRequest;
  response: RecordedResponse;
  elapsedMs: number;
  notes: string;
  decoded?: { header: Record<string, unknown> | null; payload: Record<string, unknown> | null };
}

const DIR = path.join(__dirname, '..', '..', 'fixtures', 'factory-contract');

/** The vendor API key the recordings were made with. */
export const RECORDED_API_KEY = 'rf-api-key-123';

/** One recording by its file name without `.json`, e.g. `02-order-healthy`. */
export function recording(name: string): Recording {
  return JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as Recording;
}

/** Every recording, keyed by file name without `.json`. */
export function allRecordings(): Map<string, Recording> {
  const files = readdirSync(DIR).filter((file) => file.endsWith('.json')).sort();
  return new Map(files.map((file) => [file.replace(/\.json$/, ''), recording(file.replace(/\.json$/, ''))]));
}

/** The time (ms) inside a recorded token's validity: its header's `iat` plus a minute. */
export function insideValidity(rec: Recording): number {
  const iat = rec.decoded?.header?.iat;
  if (typeof iat !== 'number') throw new Error(`${rec.name} has no decoded header iat`);
  return (iat + 60) * 1000;
}
