// Redaction on the serialized line, beside pino's explicit REDACT_PATHS: secret-named keys at any depth
// and secrets inside free text. A regex pass over the string is far cheaper than pino's wildcard paths.
// Report URLs with the factory API key are cleaned by the factory client (src/factory/redact.ts).

export const REDACTED = '[REDACTED]';

// header.payload.signature; the header is base64url JSON, so it starts with "eyJ". The signature is
// what makes a token usable; header and payload stay readable for debugging. A match may only start
// where a base64url run starts: with `\b`, every "eyJ" inside a long run like "eyJ-eyJ-eyJ-…" was a
// start that rescanned the rest of the run, so a 1 MB request body blocked the event loop for minutes.
const JWT = /(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\.[A-Za-z0-9_-]+/g;
// Eight characters or more: real credentials are long, and "Bearer token required" stays readable.
const BEARER = /\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const SECRET_KEY = 'password|passwd|secret|token|jwt|api[_-]?key|authorization|cookie';
// A JSON member with a scalar value whose key ends in a secret-ish name ("password", "x-api-key",
// "refreshToken"). Object values are left to pino's explicit REDACT_PATHS.
const SECRET_JSON_MEMBER = new RegExp(`"([A-Za-z0-9_.-]*(?:${SECRET_KEY}))":(?:"(?:[^"\\\\]|\\\\.)*"|[-0-9.eE+]+|true|false|null)`, 'gi');
// One cheap scan decides whether a line needs the replacements at all (most lines do not). A secret
// member needs its key to end in a secret name right before `":`; a bare "jwt" was no hint at all, since
// every line carries "service":"jwt-pizza-service".
const HINT = new RegExp(`eyJ|bearer|(?:${SECRET_KEY})":`, 'i');

/** Replaces JWT signatures: `h.p.s` → `h.p.[REDACTED]`. */
export function redactJwtSignatures(text: string): string {
  return text.replace(JWT, `$1.${REDACTED}`);
}

/** Replaces the credential after `Bearer`. */
export function redactBearerTokens(text: string): string {
  return text.replace(BEARER, `$1 ${REDACTED}`);
}

/** Free text (a message, an error, a URL): bearer tokens and JWT signatures. */
export function redactSecretsInText(text: string): string {
  return redactJwtSignatures(redactBearerTokens(text));
}


// An address: the local part may only start where a run of local-part characters starts (the same guard
// as JWT above: without it, a 1 MB run with no "@" would be rescanned from every position).
const EMAIL = /(?<![A-Za-z0-9._%+-])([A-Za-z0-9_%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g;

/** `diner@jwt.com` → `d***@jwt.com`: enough to tell accounts apart in an incident, not to collect them. */
export function maskEmails(text: string): string {
  return text.includes('@') ? text.replace(EMAIL, '$1***@$2') : text;
}

/**
 * A serialized JSON log line: secret-named string members at any depth, bearer tokens and JWT
 * signatures anywhere, and every email address masked. Used as pino's `hooks.streamWrite`, so it runs
 * once per line for every destination (stdout and Loki).
 */
export function scrubLogLine(line: string): string {
  const masked = maskEmails(line);
  if (!HINT.test(masked)) return masked;
  return redactSecretsInText(masked.replace(SECRET_JSON_MEMBER, `"$1":"${REDACTED}"`));
}

/** Bounds on what the access log keeps of a request body (see loggableBody). */
export const LOGGED_BODY = { maxString: 64, maxItems: 10, maxKeys: 20, maxDepth: 4, maxChars: 768 };
const SECRET_NAME = new RegExp(`(?:${SECRET_KEY})$`, 'i');

/**
 * What the access log keeps of a validated body (only the fields the route's schema accepts): each string
 * cut to 64 characters and its emails masked, at most 10 items per array and 20 keys per object, 4 levels,
 * secret-named fields replaced, and the whole at most 768 characters of JSON (else a cut string of it).
 */
export function loggableBody(body: unknown): unknown {
  const bounded = bound(body, 0);
  const text = JSON.stringify(bounded);
  if (text === undefined || text.length <= LOGGED_BODY.maxChars) return bounded;
  return `${text.slice(0, LOGGED_BODY.maxChars)}…`;
}

function bound(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskEmails(value.length > LOGGED_BODY.maxString ? `${value.slice(0, LOGGED_BODY.maxString)}…(${value.length} chars)` : value);
  if (value === null || typeof value !== 'object') return typeof value === 'number' || typeof value === 'boolean' ? value : value === null ? null : undefined;
  if (depth >= LOGGED_BODY.maxDepth) return '…';
  if (Array.isArray(value)) {
    const items = value.slice(0, LOGGED_BODY.maxItems).map((item) => bound(item, depth + 1));
    if (value.length > LOGGED_BODY.maxItems) items.push(`…(${value.length} items)`);
    return items;
  }
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const key of keys.slice(0, LOGGED_BODY.maxKeys)) {
    const item = (value as Record<string, unknown>)[key];
    out[key.slice(0, LOGGED_BODY.maxString)] = SECRET_NAME.test(key) && item !== undefined ? REDACTED : bound(item, depth + 1);
  }
  if (keys.length > LOGGED_BODY.maxKeys) out['…'] = `${keys.length} keys`;
  return out;
}
