/**
 * The last lines a child process wrote to stderr, kept in memory so that an exit report can say why
 * the process died (an import or constructor error shows up here) without keeping whole logs.
 */

/** Default number of lines an exit report carries. */
export const DEFAULT_STDERR_TAIL_LINES = 40;
/** Default cap on the bytes kept, so one endless line cannot grow the buffer without bound. */
export const DEFAULT_STDERR_TAIL_BYTES = 8192;

/** A bounded tail of a text stream: the last `maxLines` lines, at most `maxChars` characters. */
export class StderrTail {
  private text = "";

  constructor(
    /** Lines kept. @default DEFAULT_STDERR_TAIL_LINES */
    private readonly maxLines = DEFAULT_STDERR_TAIL_LINES,
    /** Characters kept, however few lines they make. @default DEFAULT_STDERR_TAIL_BYTES */
    private readonly maxChars = DEFAULT_STDERR_TAIL_BYTES,
  ) {}

  /** Appends a chunk as it arrives from the stream. */
  push(chunk: Buffer | string): void {
    this.text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    // Trim lazily at twice the cap: slicing on every small chunk would copy the buffer each time.
    if (this.text.length > this.maxChars * 2) this.text = this.text.slice(-this.maxChars);
  }

  /** The kept tail: whole trailing lines, newest last, without a final newline. */
  toString(): string {
    let t = this.text.length > this.maxChars ? this.text.slice(-this.maxChars) : this.text;
    t = t.replace(/\n+$/, "");
    const lines = t.split("\n");
    return lines.length > this.maxLines ? lines.slice(-this.maxLines).join("\n") : t;
  }
}
