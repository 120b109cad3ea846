// Hand-written alert docs (runbooks, docs/alerts.md) explain; the numbers of a rule or of the Alertmanager
// timing are in generated blocks only, so a changed definition cannot leave prose saying otherwise.

/** A duration, a percentage, or a bound on a count: how a rule's or a route's numbers read in prose. */
export const RULE_LIKE_NUMBER = /\d+(?:\.\d+)?(?:\s*%|[\s-]*(?:ms|s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b)|\b(?:at least|more than|fewer than|under|over)\s+\d+/gi;

/** Each phrase that may keep its number, with the reason it is not a configured value. */
export type AllowList = readonly (readonly [phrase: string, why: string])[];

/**
 * A section of `markdown`, from its heading (with its #s, e.g. `## What it means`) to the next heading of the
 * same or a higher level; the text starts with the newline before the heading.
 */
export function section(markdown: string, heading: string, path = 'the document'): string {
  const level = /^#+/.exec(heading)?.[0].length ?? 0;
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${path} has no "${heading}" section`);
  const next = markdown.slice(start + 1).search(new RegExp(`\n#{1,${level}} `));
  return markdown.slice(start, next < 0 ? undefined : start + 1 + next);
}

/** `text` with every generated block (between `<!-- BEGIN GENERATED … -->` and `<!-- END GENERATED … -->`) taken out. */
export const withoutGeneratedBlocks = (text: string) => text.replace(/<!-- BEGIN GENERATED [^>]*-->[\s\S]*?<!-- END GENERATED [^>]*-->/g, ' ');

/** The rule-like numbers in `prose` once the allowed phrases are taken out. Whitespace is folded first, so a phrase matches across a line break. */
export function restatedNumbers(prose: string, allowed: AllowList): string[] {
  let text = prose.replace(/\s+/g, ' ');
  for (const [phrase] of allowed) text = text.split(phrase).join(' ');
  // HTTP statuses in the plural (503s) are not seconds.
  text = text.replace(/\b[1-5]\d\ds\b/g, ' ');
  return text.match(RULE_LIKE_NUMBER) ?? [];
}
