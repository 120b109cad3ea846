// Hand-written alert docs (runbooks, docs/alerts.md) explain; the numbers of a rule or of the Alertmanager
// timing are in generated blocks only, so a changed definition cannot leave prose saying otherwise.

/** A duration, a percentage, or a bound on a count: how a rule's or a route's numbers read in prose. */
export const RULE_LIKE_NUMBER = /\d+(?:\.\d+)?(?:\s*%|[\s-]*(?:ms|s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b)|\b(?:at least|more than|fewer than|under|over)\s+\d+/gi;

/** Each phrase that may keep its number, with the reason it is not a configured value. */
export type AllowList = readonly (readonly [phrase: string, why: string])[];

/** The rule-like numbers in `prose` once the allowed phrases are taken out. Whitespace is folded first, so a phrase matches across a line break. */
export function restatedNumbers(prose: string, allowed: AllowList): string[] {
  let text = prose.replace(/\s+/g, ' ');
  for (const [phrase] of allowed) text = text.split(phrase).join(' ');
  // HTTP statuses in the plural (503s) are not seconds.
  text = text.replace(/\b[1-5]\d\ds\b/g, ' ');
  return text.match(RULE_LIKE_NUMBER) ?? [];
}
