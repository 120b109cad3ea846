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

/**
 * A serialized JSON log line: secret-named string members at any depth, bearer tokens and JWT
 * signatures anywhere. Used as pino's `hooks.streamWrite`, so it runs once per line for every destination.
 */
export function scrubLogLine(line: string): string {
  if (!HINT.test(line)) return line;
  return redactSecretsInText(line.replace(SECRET_JSON_MEMBER, `"$1":"${REDACTED}"`));
}
