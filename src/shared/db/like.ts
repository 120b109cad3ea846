import { sql } from 'kysely';

/** `*` is the wildcard of the frontend's name filters; SQL wildcards typed by a user match literally. */
export function wildcardToLike(pattern: string | undefined): string | undefined {
  if (!pattern || /^\**$/.test(pattern)) return undefined;
  return pattern.replace(/[!%_]/g, (c) => `!${c}`).replace(/\*/g, '%');
}

/** `column LIKE pattern ESCAPE '!'`: one escape character both SQLite and MySQL read the same way. */
export function likeEscaped(column: string, pattern: string) {
  return sql<boolean>`${sql.ref(column)} like ${pattern} escape '!'`;
}
