// The factory's reportUrl embeds the vendor API key. It is kept raw only where on-call needs to call it
// (the stored outcome); everything that is logged or shown goes through these helpers first.

export const REDACTED = '[REDACTED]';

const SUPPORT_PATH_KEY = /(\/api\/support\/)([^/?#]+)(\/report\/)/gi;
const KEY_QUERY_PARAM = /([?&](?:apiKey|api_key|key)=)([^&#]*)/gi;
const FIX_CODE_IN_PATH = /\/report\/([^/?#]+)/i;
const FIX_CODE_IN_QUERY = /[?&]fixCode=([^&#]*)/i;

/** Replaces the API key in both report URL shapes (path segment and `apiKey` query) and keeps the fix code. */
export function redactReportUrl(url: string): string {
  return url.replace(SUPPORT_PATH_KEY, `$1${REDACTED}$3`).replace(KEY_QUERY_PARAM, `$1${REDACTED}`);
}

/** The fix code of a report URL, or null when the URL has neither shape. */
export function reportUrlFixCode(url: string): string | null {
  const match = FIX_CODE_IN_PATH.exec(url) ?? FIX_CODE_IN_QUERY.exec(url);
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

/** Removes a known secret from free text such as a message the factory sent back. */
export function redactSecret(text: string, secret: string): string {
  return secret ? text.split(secret).join(REDACTED) : text;
}
