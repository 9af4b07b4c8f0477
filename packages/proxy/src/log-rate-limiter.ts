/** Lines a {@link LogRateLimiter} lets through per window by default. */
export const DEFAULT_LINES_PER_WINDOW = 10;
/** Length of one rate-limit window. */
export const DEFAULT_WINDOW_MS = 1000;

/** Options of {@link LogRateLimiter}. */
export interface LogRateLimiterOptions {
  /** Called once after a window in which lines were held back, with how many. */
  onSuppressed: (suppressed: number, windowMs: number) => void;
  /** @default 10 */
  linesPerWindow?: number;
  /** @default 1000 */
  windowMs?: number;
  /** Clock in milliseconds (tests pass a fake one). @default Date.now */
  now?: () => number;
}

/**
 * Lets at most `linesPerWindow` log lines through per window and counts the rest, so a flood of
 * failing requests writes a few lines a second instead of filling a disk. The count of what was
 * held back is reported once, at the end of its window (by an unref'd timer, so a flood that
 * stops is still reported), or earlier when the next window's first line comes before the timer.
 */
export class LogRateLimiter {
  private readonly linesPerWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LogRateLimiterOptions) {
    this.linesPerWindow = options.linesPerWindow ?? DEFAULT_LINES_PER_WINDOW;
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.now = options.now ?? Date.now;
  }

  /** True when one more line may be written now; false when this window's lines are spent (it is counted). */
  allow(): boolean {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      // The held-back count belongs before this window's lines.
      this.flush();
      this.windowStart = t;
      this.used = 0;
    }
    if (this.used < this.linesPerWindow) {
      this.used++;
      return true;
    }
    if (this.suppressed++ === 0) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.windowStart + this.windowMs - t));
      this.timer.unref();
    }
    return false;
  }

  /** Reports what was held back so far (if anything) and stops the timer; the proxy calls it on close. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const n = this.suppressed;
    this.suppressed = 0;
    if (n > 0) this.options.onSuppressed(n, this.windowMs);
  }
}
