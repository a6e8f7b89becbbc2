/**
 * Progress for the generator's long steps (generating, writing, importing). On a terminal a
 * cli-progress bar appears once a step has run for a second; elsewhere (a pipe, CI, a log file)
 * the step prints plain lines: one every ten seconds while it runs and one when it ends.
 */
import cliProgress from 'cli-progress';

export interface ProgressOutput {
  readonly isTTY?: boolean | undefined;
  write(text: string): unknown;
}

export interface Step {
  /** `value` of `total` done (the total may be corrected on the way). */
  update(value: number, total?: number): void;
  /** Ends the step with a line saying what it did. */
  done(summary: string): void;
}

const BAR_AFTER_MS = 1_000;
const LINE_EVERY_MS = 10_000;

export class Progress {
  constructor(private readonly out: ProgressOutput = process.stderr) {}

  step(label: string, total: number): Step {
    const started = performance.now();
    const tty = this.out.isTTY === true;
    let bar: cliProgress.SingleBar | null = null;
    let lastLine = started;
    let current = 0;
    let size = Math.max(1, total);
    return {
      update: (value, newTotal) => {
        current = value;
        if (newTotal !== undefined) size = Math.max(1, newTotal);
        const now = performance.now();
        if (tty) {
          if (bar === null && now - started >= BAR_AFTER_MS) {
            bar = new cliProgress.SingleBar(
              {
                stream: this.out as NodeJS.WritableStream,
                format: `${label.padEnd(10)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} | ETA {eta_formatted}`,
                hideCursor: true,
                clearOnComplete: true,
                etaBuffer: 50,
                formatValue: (v, _options, type) => (type === 'value' || type === 'total' ? count(v) : String(v)),
              },
              cliProgress.Presets.shades_classic,
            );
            bar.start(size, current);
          }
          if (bar !== null) {
            if (newTotal !== undefined) bar.setTotal(size);
            bar.update(Math.min(current, size));
          }
        } else if (now - lastLine >= LINE_EVERY_MS) {
          lastLine = now;
          this.out.write(
            `${label}: ${((100 * Math.min(current, size)) / size).toFixed(0)}% (${count(current)} of ${count(size)}) after ${seconds(now - started)}\n`,
          );
        }
      },
      done: (summary) => {
        if (bar !== null) {
          bar.update(size);
          bar.stop();
        }
        this.out.write(`${label}: ${summary} in ${seconds(performance.now() - started)}\n`);
      },
    };
  }
}

export function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return String(Math.round(n));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
