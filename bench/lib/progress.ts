/**
 * One line per scenario. On a TTY the line is rewritten every second (elapsed time, requests so far);
 * otherwise (CI, a pipe) only the start and the result are printed, so logs stay readable.
 */
export class Progress {
  private readonly tty = Boolean(process.stdout.isTTY);
  private current = '';

  step(message: string): void {
    this.clear();
    console.log(message);
  }

  start(label: string, totalSeconds: number): (elapsedSec: number, completed: number) => void {
    this.current = label;
    if (this.tty) this.write(`${label}  0.0/${totalSeconds}s`);
    else console.log(`${label} ...`);
    return (elapsed, completed) => {
      if (this.tty) this.write(`${label}  ${Math.min(elapsed, totalSeconds).toFixed(1)}/${totalSeconds}s  ${completed} requests`);
    };
  }

  done(summary: string): void {
    if (this.tty) {
      this.write(`${this.current}  ${summary}`);
      process.stdout.write('\n');
    } else {
      console.log(`${this.current}  ${summary}`);
    }
    this.current = '';
  }

  private write(line: string): void {
    process.stdout.write(`\r\x1b[K${line.slice(0, (process.stdout.columns ?? 160) - 1)}`);
  }

  private clear(): void {
    if (this.tty && this.current) process.stdout.write('\r\x1b[K');
  }
}
