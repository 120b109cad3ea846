// Value-level redaction, a second line behind pino's path redaction (REDACT_PATHS): it catches secrets
// inside free text and secret-named keys at any depth. Report URLs with the factory API key are
// cleaned by the factory client (src/factory/redact.ts) where it logs them.

export const REDACTED = '[REDACTED]';

// header.payload.signature; the header is base64url JSON, so it starts with "eyJ". The signature is
// what makes a token usable; header and payload stay readable for debugging.
const JWT = /\b(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\.[A-Za-z0-9_-]+/g;
const BEARER = /\b(bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
const SECRET_KEY = 'password|passwd|secret|token|api[_-]?key|authorization|cookie';
// A JSON string member whose key ends in a secret-ish name ("password", "x-api-key", "refreshToken").
const SECRET_JSON_MEMBER = new RegExp(`"([A-Za-z0-9_.-]*(?:${SECRET_KEY}))":"(?:[^"\\\\]|\\\\.)*"`, 'gi');
// One cheap scan decides whether a line needs the replacements at all (most lines do not).
const HINT = new RegExp(`eyJ|bearer|${SECRET_KEY}`, 'i');

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
