/** How long repeats of one log line are counted before they are summarised. */
export const REPEAT_WINDOW_MS = 10_000;

/** Structured fields of a log line (for JSON logs); never key material, passwords or policies. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Writes one log line, with its fields when it has any. */
export type LineWriter = (line: string, fields?: LogFields) => void;

interface Window {
  repeats: number;
  summary: (repeats: number) => string;
  fields?: LogFields;
  timer: NodeJS.Timeout;
}

/**
 * Keeps floods out of the log: the first line of a kind (its `key`, e.g. peer
 * host + reason) is written at once; repeats within the window are only
 * counted, and when the window closes one line says how many there were
 * ("... and 312 more in the last 10 s"). At most `maxKeys` kinds are tracked
 * at a time; beyond that, repeats of new kinds are counted together, so
 * memory stays bounded however many peers flood. A line may carry structured
 * fields (JSON logs); its summary carries the same ones plus `repeats`.
 */
export class RepeatSummarizer {
  private readonly windows = new Map<string, Window>();
  private overflow?: Window;

  constructor(
    private readonly write: LineWriter,
    private readonly windowMs = REPEAT_WINDOW_MS,
    private readonly maxKeys = 1000,
  ) {}

  /**
   * Writes `line()` unless a line of this `key` was written within the window;
   * `summary(n)` is the line written when the window closes with n repeats.
   * `fields` go with the line; `summaryFields` (default `fields`) with the summary, plus `repeats`.
   */
  report(key: string, line: () => string, summary: (repeats: number, seconds: number) => string, fields?: LogFields, summaryFields: LogFields | undefined = fields): void {
    const open = this.windows.get(key);
    if (open) {
      open.repeats++;
      return;
    }
    if (this.windows.size >= this.maxKeys) {
      this.overflow ??= this.open((repeats) => `${repeats} more of other kinds in the last ${this.windowMs / 1000} s`, () => (this.overflow = undefined), { event: 'repeats_of_other_kinds' });
      this.overflow.repeats++;
      return;
    }
    this.write(line(), fields);
    const window = this.open((repeats) => summary(repeats, this.windowMs / 1000), () => this.windows.delete(key), summaryFields);
    this.windows.set(key, window);
  }

  private open(summary: (repeats: number) => string, close: () => void, fields?: LogFields): Window {
    const window: Window = {
      repeats: 0,
      summary,
      fields,
      timer: setTimeout(() => {
        close();
        this.writeSummary(window);
      }, this.windowMs),
    };
    window.timer.unref();
    return window;
  }

  /** Writes the pending summaries now (e.g. at shutdown) and forgets every window. */
  flush(): void {
    for (const [key, window] of this.windows) {
      clearTimeout(window.timer);
      this.windows.delete(key);
      this.writeSummary(window);
    }
    if (this.overflow) {
      clearTimeout(this.overflow.timer);
      this.writeSummary(this.overflow);
      this.overflow = undefined;
    }
  }

  private writeSummary(window: Window): void {
    if (window.repeats > 0) this.write(window.summary(window.repeats), window.fields ? { ...window.fields, repeats: window.repeats } : { repeats: window.repeats });
  }
}
