// The factory's report URL: how a stored one is checked before it is called, and what its answers mean.
// Recorded production form: https://<factory host, no port>/api/support/<vendor API key>/report/<fix code>.
// The key travels in the path, so the URL is only ever sent to the factory we are configured with.

const REPORT_PATH = /^\/api\/support\/[^/]+\/report\/[^/]+$/;
const MAX_FACTORY_MESSAGE = 200;

/** What a report URL's answer says, by the recorded texts (the status alone does not tell: "no chaos" is a 200 too). */
export type ReportOutcome = 'resolved' | 'no_chaos' | 'unresolved' | 'error';

export interface ReportAnswer {
  outcome: ReportOutcome;
  status: number;
  /** The factory's own `message`, shortened. */
  message: string;
}

/**
 * Where a stored report URL may be called, or why it may not. Only an https URL on the configured factory's
 * host, with the recorded path and nothing else (no credentials, query or fragment), is accepted. It is called
 * on the configured factory's origin: in production that is the same https origin; against a local simulator
 * on plain http and another port, the path still reaches the factory that issued it.
 */
export function reportCallTarget(reportUrl: string, factoryUrl: string): { target: URL } | { problem: string } {
  let url: URL;
  let factory: URL;
  try {
    url = new URL(reportUrl);
    factory = new URL(factoryUrl);
  } catch {
    return { problem: 'it is not a URL' };
  }
  if (url.protocol !== 'https:') return { problem: `it is not https (${url.protocol.replace(':', '')})` };
  if (url.hostname !== factory.hostname) return { problem: `its host ${url.hostname} is not the factory's (${factory.hostname})` };
  if (url.port !== '' && url.port !== factory.port) return { problem: `its port ${url.port} is not the factory's` };
  if (url.username || url.password || url.search || url.hash) return { problem: 'it carries credentials, a query or a fragment' };
  if (!REPORT_PATH.test(url.pathname)) return { problem: 'its path is not /api/support/<key>/report/<code>' };
  return { target: new URL(url.pathname, factory.origin) };
}

/** Calls a checked report URL. Redirects are not followed: the key must not reach another host. Throws when nothing answered. */
export async function callReportUrl(target: URL, timeoutMs: number): Promise<ReportAnswer> {
  const response = await fetch(target, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  const body = (await response.json().catch(() => ({}))) as { message?: unknown };
  const message = typeof body.message === 'string' ? body.message.slice(0, MAX_FACTORY_MESSAGE) : '';
  return { outcome: classifyReportAnswer(response.status, message), status: response.status, message };
}

/** Recorded answers: 200 "Problem resolved. …", 200 "No chaos currently executing", 400 "Problem unresolved". */
export function classifyReportAnswer(status: number, message: string): ReportOutcome {
  if (status === 400) return 'unresolved';
  if (status < 200 || status >= 300) return 'error';
  if (/^problem resolved\b/i.test(message)) return 'resolved';
  if (/^no chaos\b/i.test(message)) return 'no_chaos';
  return 'error';
}
