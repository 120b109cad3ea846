/**
 * One line per scenario. On a TTY the line is rewritten every second (elapsed time, requests so far);
 * otherwise (CI, a pipe) only the finished line is printed, so logs stay readable.
 */
export class Progress {
  private readonly tty = Boolean(process.stdout.isTTY);
  private current = '';
  private startedAt = 0;

  step(message: string): void {
    this.clear();
    console.log(message);
  }

  /** Ended by done(summary), or by clear() for a step that leaves no line behind (a warm-up). */
  start(label: string, totalSeconds: number): (elapsedSec: number, completed: number) => void {
    this.current = label;
    this.startedAt = Date.now();
    if (this.tty) this.write(`${label}  0.0/${totalSeconds}s`);
    return (elapsed, completed) => {
      if (this.tty) this.write(`${label}  ${Math.min(elapsed, totalSeconds).toFixed(1)}/${totalSeconds}s  ${completed} requests`);
    };
  }

  done(summary: string): void {
    const line = `${this.current}  ${summary}  (${((Date.now() - this.startedAt) / 1000).toFixed(1)} s)`;
    if (this.tty) {
      this.write(line);
      process.stdout.write('\n');
    } else {
      console.log(line);
    }
    this.current = '';
  }

  private write(line: string): void {
    process.stdout.write(`\r\x1b[K${line.slice(0, (process.stdout.columns ?? 160) - 1)}`);
  }

  clear(): void {
    if (this.tty && this.current) process.stdout.write('\r\x1b[K');
    this.current = '';
  }
}
