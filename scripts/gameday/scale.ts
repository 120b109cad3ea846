// Time-scaling of Prometheus rule files for the game day: every duration that decides WHEN an alert
// fires or resolves is divided by a factor, so a 45-minute incident replays in a couple of minutes
// with the same shape (10m window -> 30s, for 1m -> 3s, keep_firing_for 5m -> 15s at factor 20).
//
// Scaled: `for:`, `keep_firing_for:`, group `interval:` / `evaluation_interval:` values, and inside
// `expr:` values the PromQL range selectors `[5m]`, subqueries `[10m:1m]` / `[10m:]` and `offset 5m`.
// Not scaled: anything inside PromQL string literals or comments, annotations (their text says "10m"
// and stays as written), record/alert names, and scalar seconds passed to functions such as
// predict_linear (none of our rules use one). Everything else in the YAML is kept byte for byte.
//
// A line-based rewrite rather than parse-and-stringify, so every line but the timing ones stays as
// written (comments, quoting) and the scaled copy diffs cleanly against the committed file. It reads
// the block style grafana/src/yamlFile.ts writes: block mappings and sequences, plain / quoted
// scalars, `|` blocks.

const UNIT_MS: Record<string, number> = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const UNIT_ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
const DURATION_TOKEN = /(\d+)(ms|y|w|d|h|m|s)/g;
/** A Prometheus duration: one or more `<int><unit>` in decreasing unit order (1h30m, 90s, 500ms). */
export const DURATION_PATTERN = /^(?:\d+(?:ms|y|w|d|h|m|s))+$/;

/** Milliseconds of a Prometheus duration such as `1m30s`; throws on anything else. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!DURATION_PATTERN.test(trimmed)) throw new Error(`not a Prometheus duration: '${text}'`);
  let total = 0;
  let lastUnit = -1;
  for (const match of trimmed.matchAll(DURATION_TOKEN)) {
    const unit = UNIT_ORDER.indexOf(match[2]!);
    // Prometheus requires decreasing units without repeats ("1m30s", never "30s1m").
    if (unit <= lastUnit) throw new Error(`not a Prometheus duration (units out of order): '${text}'`);
    lastUnit = unit;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return total;
}

/** Whole seconds as a compact duration: 30s, 1m30s, 2h, 1h0m5s -> "1h5s". 0 -> "0s". */
export function formatSeconds(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`formatSeconds needs a whole non-negative number, got ${seconds}`);
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}

/**
 * Divides a duration by `factor`, rounded UP to whole seconds, at least 1s (0 stays 0s).
 * Factor 1 returns the text unchanged, so the full-timing profile loads the rules exactly as written.
 */
export function scaleDuration(text: string, factor: number): string {
  if (!(factor >= 1) || !Number.isFinite(factor)) throw new Error(`scale factor must be a finite number >= 1, got ${factor}`);
  const ms = parseDuration(text);
  if (factor === 1) return text.trim();
  if (ms === 0) return '0s';
  return formatSeconds(Math.max(1, Math.ceil(ms / factor / 1000 - 1e-9)));
}

const IDENT_CHAR = /[A-Za-z0-9_:]/;
const RANGE_BODY = /^(\s*)(\d+(?:ms|y|w|d|h|m|s)(?:\d+(?:ms|y|w|d|h|m|s))*)(\s*)(?::(\s*)((?:\d+(?:ms|y|w|d|h|m|s))+)?(\s*))?$/;
const OFFSET_AFTER = /^(\s+)(-?)(\d+(?:ms|y|w|d|h|m|s)(?:\d+(?:ms|y|w|d|h|m|s))*)(?![A-Za-z0-9_])/;

/**
 * Scales the durations of a PromQL expression: `[d]`, `[d:]`, `[d:d]` and `offset d` (also `offset -d`).
 * String literals ("...", '...', `...`) and `#` comments are copied untouched, so a label regex like
 * `le=~"[5m]"` is never rewritten.
 */
export function scalePromql(expr: string, factor: number): string {
  let out = '';
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== ch) j += ch !== '`' && expr[j] === '\\' ? 2 : 1;
      out += expr.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '#') {
      const end = expr.indexOf('\n', i);
      const j = end === -1 ? expr.length : end;
      out += expr.slice(i, j);
      i = j;
      continue;
    }
    if (ch === '[') {
      const close = expr.indexOf(']', i);
      const body = close === -1 ? null : RANGE_BODY.exec(expr.slice(i + 1, close));
      if (body) {
        const [, lead, range, mid, colonSpace, step, tail] = body;
        const scaledStep = step === undefined ? '' : scaleDuration(step, factor);
        const sub = colonSpace === undefined ? '' : `:${colonSpace}${scaledStep}${tail ?? ''}`;
        out += `[${lead}${scaleDuration(range!, factor)}${mid}${sub}]`;
        i = close + 1;
        continue;
      }
    }
    if (ch === 'o' && expr.startsWith('offset', i) && (i === 0 || !IDENT_CHAR.test(expr[i - 1]!))) {
      const after = OFFSET_AFTER.exec(expr.slice(i + 'offset'.length));
      if (after) {
        const [whole, space, minus, duration] = after;
        out += `offset${space}${minus}${scaleDuration(duration!, factor)}`;
        i += 'offset'.length + whole.length;
        continue;
      }
    }
    out += ch;
    i++;
  }
  return out;
}

const DURATION_KEYS = new Set(['for', 'keep_firing_for', 'interval', 'evaluation_interval']);
const KEY_LINE = /^(\s*)((?:-\s+)?)([A-Za-z_][A-Za-z0-9_]*):(?:(\s+)(.*))?$/;

function unquoteYamlScalar(raw: string): { value: string; requote: (v: string) => string } | undefined {
  if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) return { value: JSON.parse(raw) as string, requote: (v) => JSON.stringify(v) };
  if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) {
    return { value: raw.slice(1, -1).replace(/''/g, "'"), requote: (v) => `'${v.replace(/'/g, "''")}'` };
  }
  return undefined;
}

function splitTrailingComment(value: string): [string, string] {
  // A plain YAML scalar ends at " #"; quoted ones were unquoted before this is called.
  const at = value.search(/\s#/);
  return at === -1 ? [value, ''] : [value.slice(0, at), value.slice(at)];
}

/**
 * Returns a Prometheus rule file with its timing scaled by `factor` (see the top of this file).
 * The first line is a comment saying so; every other line is kept unless it holds a scaled duration.
 */
export function scaleRuleFile(yaml: string, factor: number, origin = 'rule file'): string {
  const lines = yaml.split('\n');
  const out: string[] = [];
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const key = KEY_LINE.exec(line);
    if (!key || /^\s*#/.test(line)) {
      out.push(line);
      continue;
    }
    const [, indent, dash, name, space = '', rawValue = ''] = key;
    const keyColumn = indent!.length + dash!.length;
    const [valuePart, comment] = splitTrailingComment(rawValue);
    const quotedDuration = unquoteYamlScalar(valuePart.trim());
    const durationText = quotedDuration ? quotedDuration.value : valuePart.trim();
    // Only real durations: a label or annotation that happens to be called `for` is left alone.
    if (DURATION_KEYS.has(name!) && DURATION_PATTERN.test(durationText)) {
      const quoted = quotedDuration;
      const scaled = scaleDuration(durationText, factor);
      out.push(`${indent}${dash}${name}:${space}${quoted ? quoted.requote(scaled) : scaled}${comment}`);
      continue;
    }
    if (name === 'expr') {
      const value = rawValue.trim();
      // The value's continuation: every following line that is blank or indented deeper than the key.
      let end = n + 1;
      while (end < lines.length && (lines[end]!.trim() === '' || lines[end]!.length - lines[end]!.trimStart().length > keyColumn)) end++;
      // Trailing blank lines belong to the document, not to the expression.
      while (end > n + 1 && lines[end - 1]!.trim() === '') end--;
      const continuation = lines.slice(n + 1, end);
      if (/^[|>][0-9+-]*$/.test(value)) {
        out.push(line, ...scalePromql(continuation.join('\n'), factor).split('\n'));
      } else {
        const quoted = continuation.length === 0 ? unquoteYamlScalar(value) : undefined;
        if (quoted) out.push(`${indent}${dash}${name}:${space}${quoted.requote(scalePromql(quoted.value, factor))}`);
        else {
          const [exprPart, comment] = continuation.length === 0 ? splitTrailingComment(rawValue) : [rawValue, ''];
          out.push(`${indent}${dash}${name}:${space}${scalePromql(exprPart, factor)}${comment}`, ...continuation.map((l) => scalePromql(l, factor)));
        }
      }
      n = end - 1;
      continue;
    }
    out.push(line);
  }
  const header = `# TIME-SCALED copy of ${origin} for the game day (scripts/gameday.ts): durations in for, keep_firing_for, interval and PromQL ranges divided by ${factor}, rounded up to whole seconds.`;
  return factor === 1 ? out.join('\n') : `${header}\n${out.join('\n')}`;
}

/** Milliseconds as a compact duration: 1500 -> "1s500ms", 120000 -> "2m", 0 -> "0s". */
export function formatMilliseconds(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`formatMilliseconds needs a whole non-negative number, got ${ms}`);
  const rest = ms % 1000;
  const seconds = (ms - rest) / 1000;
  if (seconds === 0) return rest ? `${rest}ms` : '0s';
  return `${formatSeconds(seconds)}${rest ? `${rest}ms` : ''}`;
}

/**
 * Divides a notification-timing duration (Alertmanager's group_wait / group_interval / repeat_interval,
 * Prometheus' --rules.alert.resend-delay) by `factor`, rounded UP to 100 ms, at least 100 ms (0 stays 0s).
 * Finer than scaleDuration: group_wait 10s at factor 20 is 500 ms, and rounding it to 1 s would add
 * 10 real seconds to every page's delay. Factor 1 returns the text unchanged.
 */
export function scaleNotificationDuration(text: string, factor: number): string {
  if (!(factor >= 1) || !Number.isFinite(factor)) throw new Error(`scale factor must be a finite number >= 1, got ${factor}`);
  const ms = parseDuration(text);
  if (factor === 1) return text.trim();
  if (ms === 0) return '0s';
  return formatMilliseconds(Math.max(100, Math.ceil(ms / factor / 100 - 1e-9) * 100));
}

const RULE_START = /^(\s*)-\s+(alert|record):\s*(\S.*?)\s*$/;

/**
 * Adds labels to one alerting rule of a rule file (the game day routes the naive anti-example as a
 * page: the committed file has no severity, so Alertmanager would send it to the default receiver).
 * Existing labels with the same name are replaced; throws if the rule is not in the file.
 */
export function addRuleLabels(yaml: string, alertName: string, labels: Record<string, string>): string {
  const lines = yaml.split('\n');
  const start = lines.findIndex((line) => {
    const match = RULE_START.exec(line);
    return match?.[2] === 'alert' && (unquoteYamlScalar(match[3]!)?.value ?? match[3]) === alertName;
  });
  if (start === -1) throw new Error(`alert ${alertName} is not in the rule file`);
  const itemIndent = RULE_START.exec(lines[start]!)![1]!.length;
  let end = start + 1;
  while (end < lines.length && (lines[end]!.trim() === '' || lines[end]!.length - lines[end]!.trimStart().length > itemIndent)) end++;
  while (end > start + 1 && lines[end - 1]!.trim() === '') end--;
  const keyIndent = ' '.repeat(itemIndent + 2);
  const labelIndent = `${keyIndent}  `;
  const rendered = Object.entries(labels).map(([name, value]) => `${labelIndent}${name}: ${JSON.stringify(value)}`);
  const body = lines.slice(start + 1, end);
  const labelsAt = body.findIndex((line) => line === `${keyIndent}labels:`);
  let newBody: string[];
  if (labelsAt === -1) newBody = [...body, `${keyIndent}labels:`, ...rendered];
  else {
    let labelsEnd = labelsAt + 1;
    while (labelsEnd < body.length && body[labelsEnd]!.startsWith(labelIndent)) labelsEnd++;
    const kept = body.slice(labelsAt + 1, labelsEnd).filter((line) => !Object.keys(labels).some((name) => line.startsWith(`${labelIndent}${name}:`)));
    newBody = [...body.slice(0, labelsAt + 1), ...kept, ...rendered, ...body.slice(labelsEnd)];
  }
  return [...lines.slice(0, start + 1), ...newBody, ...lines.slice(end)].join('\n');
}
