// Output: timeline events as lines; on a TTY, one status line redrawn in place below them.
// Without a TTY (CI, a test capturing output) the status line is printed as a plain line now and then.

export interface Display {
  readonly tty: boolean;
  /** A permanent line (timeline event, setup step, summary). */
  line(text?: string): void;
  /** The current status; drawn in place on a TTY, printed every `plainEveryMs` otherwise. */
  status(text: string): void;
  color(code: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string): string;
  close(): void;
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

export function createDisplay(out: NodeJS.WriteStream = process.stdout, options: { plainEveryMs?: number; forceTty?: boolean } = {}): Display {
  const tty = options.forceTty ?? Boolean(out.isTTY);
  const colors = tty && !process.env.NO_COLOR;
  const plainEveryMs = options.plainEveryMs ?? 15_000;
  let current = '';
  let lastPlain = 0;
  const fit = (text: string) => {
    const width = out.columns ?? 120;
    // eslint-disable-next-line no-control-regex
    const visible = text.replace(/\x1b\[[0-9;]*m/g, '');
    return visible.length < width ? text : visible.slice(0, Math.max(10, width - 2)) + '…';
  };
  const draw = () => {
    if (tty && current) out.write(`\r\x1b[2K${fit(current)}`);
  };
  return {
    tty,
    line(text = '') {
      if (tty) out.write('\r\x1b[2K');
      out.write(`${text}\n`);
      draw();
    },
    status(text) {
      current = text;
      if (tty) draw();
      else if (Date.now() - lastPlain >= plainEveryMs) {
        lastPlain = Date.now();
        out.write(`  … ${text}\n`);
      }
    },
    color(code, text) {
      return colors ? `\x1b[${CODES[code]}m${text}\x1b[0m` : text;
    },
    close() {
      if (tty && current) out.write('\r\x1b[2K');
      current = '';
    },
  };
}
