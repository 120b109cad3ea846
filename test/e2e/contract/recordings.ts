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
  decoded?: { header: Record<string, unknown> | null; payload: Record<string, unknown> | null; segments?: number; headerError?: string; signatureBytes?: number };
  /** On requests that send a token: its decoded header (and payload, or a note naming the recording it came from). */
  requestTokenDecoded?: { header: Record<string, unknown>; payload: unknown };
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

/** A base64url JWS segment decoded as JSON, or null when it is not one (e.g. the badjwt string's header). */
export function decodeJwsSegment(segment: string | undefined): Record<string, unknown> | null {
  if (segment === undefined || !/^[\w-]+$/.test(segment) || segment.length % 4 === 1) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
