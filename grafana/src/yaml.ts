// A deterministic YAML writer, and a reader for exactly the subset it writes.
// The project has no YAML dependency; promtool, Prometheus, Mimir and Grafana read what we write,
// and our own tests and the publish script read it back with parseYaml().
//
// Written subset: block mappings and sequences, plain / single-quoted / double-quoted (JSON escapes)
// scalars, `|-` literal blocks for multi-line strings, empty `[]` and `{}`, and `#` comments.

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };
type YamlMap = { [key: string]: YamlValue };

const INDENT = '  ';
const RESERVED_WORDS = /^(true|false|yes|no|on|off|y|n|null|~)$/i;
const NUMBER_LIKE = /^[-+]?(\.?[0-9]|\.(inf|nan))/i;
const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;
const INDICATOR_START = /^[-?:,[\]{}#&*!|>'"%@`\s]/;

function isPlainSafe(text: string): boolean {
  if (text === '' || text !== text.trim()) return false;
  if (RESERVED_WORDS.test(text)) return false;
  if (NUMBER_LIKE.test(text) && !DURATION.test(text)) return false;
  if (INDICATOR_START.test(text)) return false;
  if (text.includes(': ') || text.includes(' #') || text.endsWith(':')) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f]/.test(text);
}

function quote(text: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = !/[\u0000-\u001f\u007f]/.test(text);
  if (printable && text.includes('"') && !text.includes("'")) return `'${text}'`;
  return JSON.stringify(text);
}

function scalar(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`YAML: cannot write non-finite number ${value}`);
    return String(value);
  }
  return isPlainSafe(value) ? value : quote(value);
}

function isBlockString(value: YamlValue): value is string {
  return (
    typeof value === 'string' &&
    value.includes('\n') &&
    !value.endsWith('\n') &&
    value.split('\n').every((line) => line === line.trimEnd() && !/\t/.test(line)) &&
    !value.startsWith(' ')
  );
}

function isScalar(value: YamlValue): value is string | number | boolean | null {
  return value === null || typeof value !== 'object';
}

function writeKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(key) && !RESERVED_WORDS.test(key) ? key : JSON.stringify(key);
}

function writeEntry(prefix: string, value: YamlValue, depth: number, out: string[]): void {
  const pad = INDENT.repeat(depth + 1);
  if (isBlockString(value)) {
    out.push(`${prefix} |-`);
    for (const line of value.split('\n')) out.push(line === '' ? '' : pad + line);
  } else if (isScalar(value)) {
    out.push(`${prefix} ${scalar(value)}`);
  } else if (Array.isArray(value)) {
    if (value.length === 0) out.push(`${prefix} []`);
    else {
      out.push(prefix);
      writeSequence(value, depth + 1, out);
    }
  } else if (Object.keys(value).length === 0) {
    out.push(`${prefix} {}`);
  } else {
    out.push(prefix);
    writeMapping(value, depth + 1, out);
  }
}

function writeMapping(map: YamlMap, depth: number, out: string[]): void {
  for (const [key, value] of Object.entries(map)) {
    if (value === undefined) continue;
    writeEntry(`${INDENT.repeat(depth)}${writeKey(key)}:`, value, depth, out);
  }
}

function writeSequence(items: YamlValue[], depth: number, out: string[]): void {
  const pad = INDENT.repeat(depth);
  for (const item of items) {
    if (isScalar(item) && !isBlockString(item)) {
      out.push(`${pad}- ${scalar(item)}`);
    } else if (Array.isArray(item)) {
      throw new Error('YAML: nested sequences are not part of the written subset');
    } else if (isScalar(item)) {
      throw new Error('YAML: multi-line strings directly in a sequence are not part of the written subset');
    } else {
      // A mapping item: its first key sits on the dash line, the rest one level deeper.
      const lines: string[] = [];
      writeMapping(item, depth + 1, lines);
      if (lines.length === 0) {
        out.push(`${pad}- {}`);
        continue;
      }
      out.push(`${pad}- ${lines[0].slice(pad.length + INDENT.length)}`);
      out.push(...lines.slice(1));
    }
  }
}

/** Serialises a mapping as block YAML, optionally under a `#` comment header. */
export function toYaml(document: YamlMap, headerComment?: string): string {
  const out: string[] = [];
  if (headerComment) for (const line of headerComment.split('\n')) out.push(line ? `# ${line}` : '#');
  writeMapping(stripUndefined(document) as YamlMap, 0, out);
  return out.join('\n') + '\n';
}

function stripUndefined(value: unknown): YamlValue {
  if (Array.isArray(value)) return value.map(stripUndefined);
  if (value !== null && typeof value === 'object') {
    const result: YamlMap = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) result[key] = stripUndefined(item);
    return result;
  }
  return value as YamlValue;
}

// ---------------------------------------------------------------------------------------------
// Reader

interface Line {
  indent: number;
  text: string;
  number: number;
}

class YamlSyntaxError extends Error {
  constructor(message: string, line: number) {
    super(`YAML line ${line}: ${message}`);
  }
}

function stripComment(text: string): string {
  // Comments start at a `#` preceded by whitespace, outside quotes.
  let quoteChar: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoteChar) {
      if (quoteChar === '"' && ch === '\\') i++;
      else if (ch === quoteChar) quoteChar = null;
    } else if ((ch === '"' || ch === "'") && (i === 0 || /[\s:-]/.test(text[i - 1]))) {
      quoteChar = ch;
    } else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text;
}

function parseScalar(raw: string, lineNumber: number): YamlValue {
  const text = raw.trim();
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) throw new YamlSyntaxError(`unterminated string ${text}`, lineNumber);
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new YamlSyntaxError(`bad double-quoted string ${text}`, lineNumber);
    }
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new YamlSyntaxError(`unterminated string ${text}`, lineNumber);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text === '[]') return [];
  if (text === '{}') return {};
  if (/^[[{]/.test(text)) throw new YamlSyntaxError(`flow collections are not part of the subset: ${text}`, lineNumber);
  if (/^(null|~)$/.test(text) || text === '') return null;
  if (/^true$/i.test(text)) return true;
  if (/^false$/i.test(text)) return false;
  if (/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text;
}

function splitKey(text: string, lineNumber: number): { key: string; rest: string } {
  if (text.startsWith('"')) {
    const end = text.indexOf('":');
    if (end < 0) throw new YamlSyntaxError(`bad quoted key in ${text}`, lineNumber);
    return { key: JSON.parse(text.slice(0, end + 1)) as string, rest: text.slice(end + 2).trim() };
  }
  const match = /^([^\s:#][^:#]*?):(\s|$)/.exec(text);
  if (!match) throw new YamlSyntaxError(`expected "key: value", got ${text}`, lineNumber);
  return { key: match[1], rest: text.slice(match[0].length).trim() };
}

class Reader {
  private position = 0;

  constructor(private readonly lines: Line[]) {}

  parseDocument(): YamlValue {
    if (this.lines.length === 0) return null;
    const value = this.parseNode(this.lines[0].indent);
    if (this.position < this.lines.length) {
      const line = this.lines[this.position];
      throw new YamlSyntaxError(`unexpected indentation`, line.number);
    }
    return value;
  }

  private peek(): Line | undefined {
    return this.lines[this.position];
  }

  private parseNode(indent: number): YamlValue {
    const line = this.peek();
    if (!line) return null;
    return line.text === '-' || line.text.startsWith('- ') ? this.parseSequence(indent) : this.parseMapping(indent);
  }

  private parseSequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (let line = this.peek(); line && line.indent === indent && (line.text === '-' || line.text.startsWith('- ')); line = this.peek()) {
      const content = line.text.slice(1).trimStart();
      if (content === '') {
        this.position++;
        const next = this.peek();
        items.push(next && next.indent > indent ? this.parseNode(next.indent) : null);
        continue;
      }
      const contentIndent = indent + (line.text.length - content.length);
      const looksLikeMapping = /^("[^"]*"|[^\s:#'"[{][^:#]*?):(\s|$)/.test(content);
      if (looksLikeMapping) {
        // Re-read the item as a mapping whose first line starts where the content starts.
        this.lines[this.position] = { indent: contentIndent, text: content, number: line.number };
        items.push(this.parseMapping(contentIndent));
      } else {
        this.position++;
        items.push(parseScalar(content, line.number));
      }
    }
    return items;
  }

  private parseMapping(indent: number): YamlMap {
    const map: YamlMap = {};
    for (let line = this.peek(); line && line.indent === indent; line = this.peek()) {
      if (line.text.startsWith('- ')) break;
      const { key, rest } = splitKey(line.text, line.number);
      if (Object.prototype.hasOwnProperty.call(map, key)) throw new YamlSyntaxError(`duplicate key ${key}`, line.number);
      this.position++;
      if (rest === '|' || rest === '|-') {
        map[key] = this.readBlockScalar(indent, rest === '|');
      } else if (rest !== '') {
        map[key] = parseScalar(rest, line.number);
      } else {
        const next = this.peek();
        if (next && next.indent > indent) map[key] = this.parseNode(next.indent);
        else if (next && next.indent === indent && next.text.startsWith('- ')) map[key] = this.parseSequence(indent);
        else map[key] = null;
      }
    }
    const stray = this.peek();
    if (stray && stray.indent > indent) throw new YamlSyntaxError('unexpected indentation', stray.number);
    return map;
  }

  private readBlockScalar(parentIndent: number, keepFinalNewline: boolean): string {
    const collected: Line[] = [];
    for (let line = this.peek(); line && (line.indent > parentIndent || line.text === ''); line = this.peek()) {
      collected.push(line);
      this.position++;
    }
    while (collected.length > 0 && collected[collected.length - 1].text === '') collected.pop();
    const contentIndent = Math.min(...collected.filter((l) => l.text !== '').map((l) => l.indent));
    const text = collected.map((l) => (l.text === '' ? '' : ' '.repeat(l.indent - contentIndent) + l.text)).join('\n');
    return keepFinalNewline ? text + '\n' : text;
  }
}

/** Reads YAML in the subset toYaml() writes (plus comments); throws with a line number otherwise. */
export function parseYaml(source: string): YamlValue {
  const rawLines = source.replace(/\r\n/g, '\n').split('\n');
  const lines: Line[] = [];
  let blockIndent: number | null = null;
  rawLines.forEach((raw, index) => {
    if (/\t/.test(raw.match(/^\s*/)?.[0] ?? '')) throw new YamlSyntaxError('tabs are not allowed for indentation', index + 1);
    const indent = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    // Inside a block scalar, keep every line verbatim (including `#`), blank lines too.
    if (blockIndent !== null) {
      if (trimmed === '' || indent > blockIndent) {
        lines.push({ indent, text: trimmed === '' ? '' : raw.slice(indent), number: index + 1 });
        return;
      }
      blockIndent = null;
    }
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (trimmed === '---') return;
    const text = stripComment(raw.slice(indent));
    lines.push({ indent, text, number: index + 1 });
    if (/:\s+\|-?$/.test(text)) blockIndent = indent + (text.startsWith('- ') ? 2 : 0);
  });
  return new Reader(lines).parseDocument();
}
